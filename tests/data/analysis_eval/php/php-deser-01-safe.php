<?php

function load_wishlist(): array
{
    if (empty($_COOKIE['wishlist'])) {
        return [];
    }
    $data = json_decode(base64_decode($_COOKIE['wishlist']), true, 4);
    return is_array($data) ? $data : [];
}
