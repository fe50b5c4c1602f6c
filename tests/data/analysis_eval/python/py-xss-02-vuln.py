from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe

from blog.models import Comment


def comment_detail(request, pk):
    comment = get_object_or_404(Comment, pk=pk)
    context = {
        "author": comment.author_name,
        "body": mark_safe(comment.body.replace("\n", "<br>")),
    }
    return render(request, "blog/comment.html", context)
