from django.http import JsonResponse


def index(request):
    return JsonResponse({"message": "Hello, World!", "items": [1, 2, 3]})
