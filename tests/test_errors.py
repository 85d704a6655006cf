from django import forms

from mesoclinic.errors import DomainError, put_on_form


class NameForm(forms.Form):
    name = forms.CharField()


def test_a_refusal_goes_beside_the_field_it_names():
    form = NameForm({"name": "x"})
    put_on_form(form, DomainError("Taken.", field="name"))
    assert form.errors == {"name": ["Taken."]}


def test_a_refusal_naming_no_field_of_this_form_goes_above_it():
    form = NameForm({"name": "x"})
    put_on_form(form, DomainError("Clinic closed.", field="time"))
    assert form.non_field_errors() == ["Clinic closed."]
