from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from workbench import views

urlpatterns = [
    path("", views.flags, name="flags"),
    path("flags/raise/", views.raise_flag, name="raise_flag"),
    path("flags/<str:flag_id>/", views.flag_detail, name="flag"),
    path("submissions/", views.submissions, name="submissions"),
    path("commentary/", views.commentary, name="commentary"),
    path("audit/", views.audit, name="audit"),
    path("login/", auth_views.LoginView.as_view(template_name="workbench/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
