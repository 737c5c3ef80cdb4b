from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="job_list"), name="home"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/delete/", views.job_delete, name="job_delete"),
    path("jobs/<str:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<str:pk>/enable/", views.job_set_enabled, {"enabled": True}, name="job_enable"),
    path("jobs/<str:pk>/disable/", views.job_set_enabled, {"enabled": False}, name="job_disable"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<str:pk>/", views.run_detail, name="run_detail"),
    path("runs/<str:pk>/files/<int:file_id>/", views.run_file, name="run_file"),
    path("git/", views.git_list, name="git_list"),
    path("git/add/", views.git_add, name="git_add"),
    path("git/<str:slug>/sync/", views.git_sync, name="git_sync"),
    path("git/<str:slug>/rename/", views.git_rename, name="git_rename"),
    path("git/<str:slug>/delete/", views.git_delete, name="git_delete"),
    path("load-errors/", views.load_errors, name="load_errors"),
]
