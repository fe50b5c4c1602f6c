<?php

function show_invoice(mysqli $db): void
{
    $id = $_GET['invoice'] ?? '';
    $result = mysqli_query($db, "SELECT number, amount, due_date FROM invoices WHERE id = " . $id);
    $row = mysqli_fetch_assoc($result);
    if (!$row) {
        http_response_code(404);
        return;
    }
    header('Content-Type: application/json');
    echo json_encode($row);
}
