"""Cursor pagination: stable pages over lists that grow while a client reads
them (attempts can be millions; an offset would scan them all)."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class NewestFirstPagination(IdCursorPagination):
    ordering = "-id"
