from django.urls import path

from . import views

app_name = "compliance"

urlpatterns = [
    path("my-record-access/", views.my_access_view, name="my_access"),
]
