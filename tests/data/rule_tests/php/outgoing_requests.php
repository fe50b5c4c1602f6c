<?php
// Annotated cases written for this project: the server fetching or connecting to what the request names.

const FEEDS = ['news' => 'https://feeds.example.com/news.xml', 'blog' => 'https://feeds.example.com/blog.xml'];

function probe_host() {
    $host = $_GET['host'];
    // ruleid: php-ssrf
    $fp = fsockopen($host, 80, $errno, $errstr, 2);
    return $fp !== false;
}

function fetch_with_options() {
    $ch = curl_init();
    // ruleid: php-ssrf
    curl_setopt_array($ch, [CURLOPT_URL => $_POST['callback'], CURLOPT_RETURNTRANSFER => true]);
    return curl_exec($ch);
}

function thumbnail_size() {
    // ruleid: php-ssrf
    return getimagesize($_GET['image_url']);
}

function load_feed() {
    // ruleid: php-ssrf
    return simplexml_load_file($_GET['feed']);
}

function load_known_feed() {
    $name = $_GET['feed'];
    if (!in_array($name, array_keys(FEEDS), true)) {
        return null;
    }
    // ok: php-ssrf
    return simplexml_load_file(FEEDS[$name]);
}

function thumbnail_local() {
    // ok: php-ssrf
    return getimagesize('uploads/' . basename($_GET['image']));
}

function fetch_fixed() {
    $ch = curl_init();
    // ok: php-ssrf
    curl_setopt_array($ch, [CURLOPT_URL => 'https://api.example.com/v1/status', CURLOPT_RETURNTRANSFER => true]);
    return curl_exec($ch);
}
