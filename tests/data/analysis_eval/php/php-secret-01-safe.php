<?php

function db(): PDO
{
    static $pdo = null;
    if ($pdo === null) {
        $pdo = new PDO(getenv('CRM_DSN') ?: 'mysql:host=127.0.0.1;dbname=crm;charset=utf8mb4', getenv('CRM_DB_USER'), getenv('CRM_DB_PASSWORD'), [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        ]);
    }
    return $pdo;
}
