// Verifies a webhook delivery with the Standard Webhooks reference library
// (`standardwebhooks`), as a receiver would: its signature under the
// alert's secret (`whsec_…`), over the bytes received, within the
// library's five minutes of tolerance.
//
//   node verify.mjs '{"secret":…,"id":…,"timestamp":…,"signature":…,"body":…}'
//
// Prints {"verified":true,"payload":…} and exits 0, or
// {"verified":false,"why":…} and exits 1.
import { Webhook } from 'standardwebhooks';

const [json] = process.argv.slice(2);
if (!json) {
  console.error('usage: node verify.mjs JSON');
  process.exit(2);
}
const { secret, id, timestamp, signature, body } = JSON.parse(json);
try {
  const payload = new Webhook(secret).verify(body, {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
  });
  console.log(JSON.stringify({ verified: true, payload }));
} catch (e) {
  console.log(JSON.stringify({ verified: false, why: e.message }));
  process.exit(1);
}
