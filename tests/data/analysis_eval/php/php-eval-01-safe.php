<?php

function apply_discount(array $cart): float
{
    $rules = [
        'none' => fn(float $t) => $t,
        'ten_percent' => fn(float $t) => $t * 0.9,
        'five_off' => fn(float $t) => max(0.0, $t - 5.0),
    ];
    $code = $_POST['discount_code'] ?? 'none';
    $total = array_sum(array_column($cart, 'price'));
    $rule = $rules[$code] ?? $rules['none'];
    return round($rule((float) $total), 2);
}
