from django.shortcuts import get_object_or_404, render
from django.utils.html import format_html_join

from blog.models import Comment


def comment_detail(request, pk):
    comment = get_object_or_404(Comment, pk=pk)
    context = {
        "author": comment.author_name,
        "body": format_html_join("", "{}<br>", ((line,) for line in comment.body.splitlines())),
    }
    return render(request, "blog/comment.html", context)
