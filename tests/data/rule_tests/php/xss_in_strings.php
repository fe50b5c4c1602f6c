<?php
// Annotated cases written for this project: HTML built into strings and sent through response objects.
use Symfony\Component\HttpFoundation\Response;

function profile_page() {
    $bio = $_GET['bio'];
    $body = '<div class="bio">' . $bio . '</div>';
    // ruleid: php-xss-echo
    return new Response($body);
}

function profile_page_escaped() {
    $bio = htmlspecialchars($_GET['bio'], ENT_QUOTES, 'UTF-8');
    $body = '<div class="bio">' . $bio . '</div>';
    // ok: php-xss-echo
    return new Response($body);
}

function banner($response) {
    // ruleid: php-xss-echo
    $response->setContent('<b>' . $_GET['msg'] . '</b>');
    // ok: php-xss-echo
    $response->setContent('<b>' . intval($_GET['count']) . '</b>');
}
