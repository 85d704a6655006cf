from django.apps import AppConfig


class MesoclinicConfig(AppConfig):
    name = "mesoclinic"
    verbose_name = "mesoclinic"
