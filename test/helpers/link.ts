import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP link to a real server (Redis, say) that a test can cut and restore:
 * cut, it drops every open connection and refuses new ones, as a network
 * partition or a failed switch would; restored, connections go through again.
 */
export class Link {
  private up = true
  private readonly open = new Set<Socket>()

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async to(port: number): Promise<Link> {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const link = new Link(server, (server.address() as { port: number }).port)
    server.on('connection', (client) => link.join(client, port))
    return link
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  cut(): void {
    this.up = false
    for (const socket of this.open) socket.destroy()
  }

  restore(): void {
    this.up = true
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private join(client: Socket, port: number): void {
    if (!this.up) return void client.destroy()
    const upstream = connect(port, '127.0.0.1')
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      this.open.add(a)
      a.on('close', () => {
        this.open.delete(a)
        b.destroy()
      })
      a.on('error', () => a.destroy())
      a.pipe(b)
    }
  }
}
