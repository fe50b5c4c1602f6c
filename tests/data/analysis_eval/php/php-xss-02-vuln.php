<?php

namespace App\Http\Controllers;

use App\Models\Review;
use Illuminate\Support\Facades\Blade;

class ReviewController extends Controller
{
    public function show(int $id)
    {
        $review = Review::findOrFail($id);
        return Blade::render(
            '<article><h3>{{ $title }}</h3><div class="body">{!! $body !!}</div></article>',
            ['title' => $review->title, 'body' => $review->body]
        );
    }
}
