<?php

function show_invoice(PDO $db): void
{
    $id = $_GET['invoice'] ?? '';
    $stmt = $db->prepare('SELECT number, amount, due_date FROM invoices WHERE id = :id');
    $stmt->bindValue(':id', (int) $id, PDO::PARAM_INT);
    $stmt->execute();
    $row = $stmt->fetch(PDO::FETCH_ASSOC);
    if (!$row) {
        http_response_code(404);
        return;
    }
    header('Content-Type: application/json');
    echo json_encode($row);
}
