from django.contrib import admin

from mesoclinic.admin_rules import NoDeleteAdmin

from .models import Course, CourseStep, Protocol


@admin.register(Protocol)
class ProtocolAdmin(NoDeleteAdmin):
    list_display = [
        "name",
        "indication",
        "sessions_count",
        "interval_min_days",
        "interval_max_days",
        "maintenance_interval_days",
        "active",
    ]
    list_filter = ["indication", "active"]


class CourseStepInline(admin.TabularInline):
    model = CourseStep
    extra = 0
    can_delete = False
    raw_id_fields = ["session"]


@admin.register(Course)
class CourseAdmin(NoDeleteAdmin):
    list_display = ["patient", "protocol", "practitioner", "status", "maintenance_due"]
    list_filter = ["status", "protocol"]
    list_select_related = ["patient", "protocol", "practitioner__user"]
    raw_id_fields = ["patient", "consultation"]
    inlines = [CourseStepInline]
