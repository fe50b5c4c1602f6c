<?php

function load_wishlist(): array
{
    if (empty($_COOKIE['wishlist'])) {
        return [];
    }
    $data = unserialize(base64_decode($_COOKIE['wishlist']));
    return is_array($data) ? $data : [];
}
