from django.http import JsonResponse

from shop.models import Product

SORTABLE = {"name": "name", "price": "price", "newest": "created_at"}


def search_products(request):
    term = request.GET.get("q", "")
    order = SORTABLE.get(request.GET.get("sort", "name"), "name")
    sql = "SELECT * FROM shop_product WHERE name LIKE %s ORDER BY " + order
    items = Product.objects.raw(sql, ["%" + term + "%"])
    return JsonResponse({"results": [{"id": p.id, "name": p.name} for p in items]})
