from django.urls import path

from . import views

app_name = "courses"
urlpatterns = [
    path("", views.course_list, name="course_list"),
    path("<int:pk>/", views.course_detail, name="course_detail"),
    path("<int:pk>/steps/<int:number>/book/", views.course_book_step_view, name="course_book_step"),
    path("<int:pk>/book-all/", views.course_book_all_view, name="course_book_all"),
    path("<int:pk>/stop/", views.course_stop_view, name="course_stop"),
    path("booking-step/", views.booking_step_choice, name="booking_step_choice"),
    path("patient/<int:patient_pk>/", views.patient_courses, name="patient_courses"),
    path("patient/<int:patient_pk>/new/", views.course_create_view, name="course_create"),
    path("protocols/", views.protocol_list, name="protocol_list"),
    path("protocols/new/", views.protocol_create, name="protocol_create"),
    path("protocols/<int:pk>/", views.protocol_edit, name="protocol_edit"),
]
