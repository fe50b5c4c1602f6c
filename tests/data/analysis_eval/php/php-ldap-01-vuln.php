<?php

function ldap_authenticate(string $username, string $password): bool
{
    $conn = ldap_connect('ldaps://ldap.example.edu');
    ldap_set_option($conn, LDAP_OPT_PROTOCOL_VERSION, 3);
    ldap_bind($conn, 'cn=reader,dc=example,dc=edu', getenv('LDAP_READER_PW'));
    $search = ldap_search($conn, 'ou=students,dc=example,dc=edu', "(uid=$username)", ['dn']);
    $entries = ldap_get_entries($conn, $search);
    if ($entries['count'] !== 1) {
        return false;
    }
    return @ldap_bind($conn, $entries[0]['dn'], $password);
}

$ok = ldap_authenticate($_POST['username'] ?? '', $_POST['password'] ?? '');
