const ldap = require('ldapjs');

function findMember(username) {
  const client = ldap.createClient({ url: 'ldaps://directory.example.com' });
  const filter = new ldap.AndFilter({
    filters: [
      new ldap.EqualityFilter({ attribute: 'objectClass', value: 'inetOrgPerson' }),
      new ldap.EqualityFilter({ attribute: 'uid', value: username }),
    ],
  });
  const opts = { scope: 'sub', filter, attributes: ['dn', 'mail'] };
  return new Promise((resolve, reject) => {
    client.search('ou=members,dc=example,dc=com', opts, (err, search) => {
      if (err) return reject(err);
      const found = [];
      search.on('searchEntry', (entry) => found.push(entry.pojo));
      search.on('end', () => { client.unbind(); resolve(found[0] || null); });
    });
  });
}

module.exports = findMember;
