from django.http import JsonResponse

from shop.models import Product


def search_products(request):
    term = request.GET.get("q", "")
    order = request.GET.get("sort", "name")
    sql = "SELECT * FROM shop_product WHERE name LIKE '%%%s%%' ORDER BY %s" % (term, order)
    items = Product.objects.raw(sql)
    return JsonResponse({"results": [{"id": p.id, "name": p.name} for p in items]})
