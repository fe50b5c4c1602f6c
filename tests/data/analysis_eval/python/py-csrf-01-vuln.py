from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@login_required
@require_POST
def transfer_funds(request):
    amount = int(request.POST["amount"])
    to_account = request.POST["to"]
    request.user.wallet.transfer(to_account, amount)
    return JsonResponse({"ok": True})
