import javax.xml.namespace.QName;
import javax.xml.xpath.XPath;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathExpressionException;
import javax.xml.xpath.XPathFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Node;

class XmlUserStore {
    private final Document users;

    XmlUserStore(Document users) {
        this.users = users;
    }

    boolean authenticate(String user, String pass) throws XPathExpressionException {
        XPath xp = XPathFactory.newInstance().newXPath();
        xp.setXPathVariableResolver((QName name) ->
            "user".equals(name.getLocalPart()) ? user : "pass".equals(name.getLocalPart()) ? pass : null);
        String expr = "/users/user[@name=$user and @password=$pass]";
        Node n = (Node) xp.evaluate(expr, users, XPathConstants.NODE);
        return n != null;
    }
}
