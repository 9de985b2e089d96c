// Ceiling A: the least a Fastify 5 server can do for the same request (parse the JSON body, answer `{}`),
// so the table shows how much of Roster's time is HTTP plumbing and how much is Roster.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.put('/api/v1/customers/:id', async () => ({}));

const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening at ${address}`);

process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
