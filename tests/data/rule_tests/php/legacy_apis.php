<?php
// Annotated cases written for this project: includes, ciphers and templates.

function show_page() {
    // ruleid: php-file-inclusion
    include 'pages/' . $_GET['page'] . '.php';
    // ok: php-file-inclusion
    include 'pages/home.php';
}

function seal($data, $key, $iv) {
    // ruleid: php-weak-cipher
    $weak = openssl_encrypt($data, 'des-ede3-cbc', $key, 0, $iv);
    // ok: php-weak-cipher
    $strong = openssl_encrypt($data, 'aes-256-gcm', $key, 0, $iv, $tag);
    return [$weak, $strong, $tag];
}

function render_card($twig) {
    // ruleid: php-template-injection
    $tpl = $twig->createTemplate($_POST['card']);
    // ok: php-template-injection
    $fixed = $twig->createTemplate('Hello {{ name }}');
    return [$tpl, $fixed];
}
