from django.contrib import admin

from mesoclinic.admin_rules import NoDeleteAdmin

from .models import EvidenceLink, Ingredient, Lot, LotUsage, Product


class IngredientInline(admin.TabularInline):
    model = Ingredient
    extra = 0


class EvidenceInline(admin.TabularInline):
    model = EvidenceLink
    extra = 0


@admin.register(Product)
class ProductAdmin(NoDeleteAdmin):
    list_display = ["name", "manufacturer", "registration_body", "registration_number", "active"]
    list_filter = ["active"]
    search_fields = ["name", "manufacturer", "registration_number"]
    inlines = [IngredientInline, EvidenceInline]


@admin.register(Lot)
class LotAdmin(NoDeleteAdmin):
    list_display = ["lot_number", "product", "expiry_date", "quantity_remaining_ml"]
    search_fields = ["lot_number", "product__name"]
    list_select_related = ["product"]


@admin.register(LotUsage)
class LotUsageAdmin(NoDeleteAdmin):
    list_display = ["lot", "session", "volume_ml", "recorded_at"]
    list_select_related = ["lot__product", "session__patient", "session__session_type"]
    raw_id_fields = ["lot", "session"]

    # Usage changes stock: only the services write it.
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
