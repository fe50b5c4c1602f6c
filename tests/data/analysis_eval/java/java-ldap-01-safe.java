import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.DirContext;
import javax.naming.directory.SearchControls;
import javax.naming.directory.SearchResult;

class DirectoryLookup {
    private final DirContext ctx;

    DirectoryLookup(DirContext ctx) {
        this.ctx = ctx;
    }

    String findMail(String login) throws NamingException {
        SearchControls sc = new SearchControls();
        sc.setSearchScope(SearchControls.SUBTREE_SCOPE);
        sc.setReturningAttributes(new String[] {"mail"});
        String filter = "(&(objectClass=user)(sAMAccountName={0}))";
        NamingEnumeration<SearchResult> res = ctx.search("dc=corp,dc=example", filter, new Object[] {login}, sc);
        return res.hasMore() ? String.valueOf(res.next().getAttributes().get("mail").get()) : null;
    }
}
