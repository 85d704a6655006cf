from django.urls import path

from . import views

app_name = "products"
urlpatterns = [
    path("", views.product_list, name="product_list"),
    path("new/", views.product_create, name="product_create"),
    path("<int:pk>/", views.product_detail, name="product_detail"),
    path("<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("<int:pk>/lots/new/", views.lot_create, name="lot_create"),
    path("stock/", views.stock_dashboard, name="stock_dashboard"),
    path("recall/", views.recall_search, name="recall_search"),
    path("lots/<int:pk>/recall/", views.lot_recall, name="lot_recall"),
    path("lots/<int:pk>/recall.csv", views.lot_recall_csv, name="lot_recall_csv"),
]
