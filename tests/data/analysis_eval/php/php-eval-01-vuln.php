<?php

function apply_discount(array $cart): float
{
    $formula = $_POST['discount_formula'] ?? '$total';
    $total = array_sum(array_column($cart, 'price'));
    $discounted = eval('return ' . $formula . ';');
    return round((float) $discounted, 2);
}
