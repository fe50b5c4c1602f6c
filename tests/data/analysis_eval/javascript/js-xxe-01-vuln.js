const libxmljs = require('libxmljs');

function importFeed(req, res) {
  const doc = libxmljs.parseXml(req.body.toString('utf8'), { noent: true, dtdload: true });
  const items = doc.find('//item').map((n) => ({
    title: n.get('title').text(),
    link: n.get('link').text(),
  }));
  res.json({ count: items.length, items });
}

module.exports = importFeed;
