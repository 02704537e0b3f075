from django.urls import path

from djsite import views

urlpatterns = [
    path("form/", views.form),
    path("notes/", views.notes),
    path("upload/", views.upload),
    path("secure/", views.secure),
]
