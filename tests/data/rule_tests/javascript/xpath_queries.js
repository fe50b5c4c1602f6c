// Annotated cases written for this project: XPath built from user text vs. a constant query.
function findUser(doc, name) {
    // ruleid: js-xpath-built
    const hit = document.evaluate(`//user[@name='${name}']`, doc, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null);
    // ok: js-xpath-built
    const all = document.evaluate('//user[@active="true"]', doc, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    return [hit, all];
}
