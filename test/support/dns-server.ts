import dns2 from "dns2";

const { Packet } = dns2;

/**
 * A DNS server on 127.0.0.1 (UDP, a free port) answering TXT questions from `records` (name → TXT records,
 * each its strings) and NXDOMAIN for any other name; nothing is forwarded. `servers` is what DNS_SERVERS takes.
 * Stop it with `close()`, pass or fail.
 */
export async function startTestDnsServer(records: Map<string, string[][]> = new Map()): Promise<{ records: Map<string, string[][]>; servers: string[]; asked: string[]; close(): Promise<void> }> {
  const asked: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const [question] = request.questions;
      const name = question?.name.toLowerCase().replace(/\.$/, "") ?? "";
      asked.push(name);
      const found = records.get(name);
      if (!question || !found) {
        void send(Packet.createErrorResponseFromRequest(request, Packet.RCODE.NXDOMAIN));
        return;
      }
      const response = Packet.createResponseFromRequest(request);
      if (question.type === Packet.TYPE.TXT) {
        for (const strings of found) response.answers.push(Packet.createResourceFromQuestion(question, { type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 60, data: strings }));
      }
      void send(response);
    },
  });
  // UDP only: the answers are short, so node:dns never falls back to TCP.
  const addresses = await server.listen({ udp: { port: 0, address: "127.0.0.1" } });
  const port = addresses.udp!.port;
  return { records, servers: [`127.0.0.1:${port}`], asked, close: () => server.close() };
}
