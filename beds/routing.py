from django.urls import path

from .consumers import BoardConsumer, PublicBoardConsumer

websocket_urlpatterns = [
    path("ws/board/", BoardConsumer.as_asgi()),
    path("ws/public-board/", PublicBoardConsumer.as_asgi()),
]
