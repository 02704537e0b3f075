import hashlib

from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.csrf import csrf_exempt

from djsite.notes.models import Note


def form(request):
    token = get_token(request)
    return HttpResponse('<form method="post" action="/notes/">'
                        '<input type="hidden" name="csrfmiddlewaretoken" value="%s">'
                        '<input name="text"></form>' % token)


def notes(request):
    if request.method == "POST":
        Note.objects.create(text=request.POST["text"])
    return JsonResponse({"count": Note.objects.count(),
                         "texts": list(Note.objects.order_by("id").values_list("text", flat=True))})


@csrf_exempt
def upload(request):
    data = request.FILES["file"].read() if "file" in request.FILES else request.body
    return JsonResponse({"size": len(data), "sha256": hashlib.sha256(data).hexdigest()})


def secure(request):
    return JsonResponse({"is_secure": request.is_secure(), "scheme": request.scheme})
