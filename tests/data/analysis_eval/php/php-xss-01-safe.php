<?php

function render_search_header(): void
{
    $q = htmlspecialchars($_GET['q'] ?? '', ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
    $count = isset($_GET['n']) ? (int) $_GET['n'] : 0;
    echo "<h2>Search results</h2>";
    echo "<p>Showing {$count} results for <em>" . $q . "</em></p>";
    echo '<form><input name="q" value="' . $q . '"></form>';
}
