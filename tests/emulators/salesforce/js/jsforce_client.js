// A second Salesforce client, in another language: jsforce logs in with the OAuth 2.0
// username-password flow, describes Contact, and queries with nextRecordsUrl paging.
// Prints one JSON object on stdout for the Python test to check.
const jsforce = require("jsforce");

async function main() {
  const cfg = JSON.parse(process.argv[2]);
  const conn = new jsforce.Connection({
    oauth2: { loginUrl: cfg.instance_url, clientId: cfg.client_id, clientSecret: cfg.client_secret },
    version: cfg.api_version,
  });
  await conn.login(cfg.username, cfg.password);
  const describe = await conn.sobject("Contact").describe();
  const records = [];
  const query = conn
    .query("SELECT Id, Name, Account.Name FROM Contact ORDER BY LastName")
    .on("record", (r) => records.push(r));
  await query.run({ autoFetch: true, maxFetch: 100000 });
  const count = await conn.query("SELECT COUNT() FROM Contact");
  process.stdout.write(
    JSON.stringify({
      instanceUrl: conn.instanceUrl,
      fields: describe.fields.map((f) => f.name),
      records: records.length,
      first: records[0],
      count: count.totalSize,
    }),
  );
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
