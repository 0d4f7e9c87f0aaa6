// The HTTP endpoint Prometheus scrapes: GET /metrics answers from the metrics
// as they were last updated, updating them first when they are a second old
// or more, so scrapes however frequent cost the capture at most one report a
// second.

import http from 'node:http';
import { WorkError } from '../errors.js';
import type { HostPort } from './host-port.js';
import type { TunscopeMetrics } from './metrics.js';

const REFRESH_MS = 1000;

export class MetricsServer {
  private updated = -Infinity;

  private constructor(private readonly server: http.Server, readonly address: string) {}

  /** Listens on HOST:PORT; a WorkError (exit 1) when the address is in use or not this host's. */
  static async listen(target: HostPort, metrics: TunscopeMetrics, refresh: () => void): Promise<MetricsServer> {
    let self: MetricsServer | null = null;
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<html><body><a href="/metrics">/metrics</a></body></html>\n');
        return;
      }
      if (path !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics\n');
        return;
      }
      if (self !== null && Date.now() - self.updated >= REFRESH_MS) {
        refresh();
        self.updated = Date.now();
      }
      metrics.text().then((text) => {
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : text);
      }, (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'the address is in use'
          : err.code === 'EADDRNOTAVAIL' ? 'not an address of this host'
            : err.code === 'EACCES' ? 'permission denied' : err.code === 'ENOTFOUND' ? 'cannot find the host' : err.message;
        reject(new WorkError(`--metrics ${target.text}: ${why}`));
      });
      server.listen(target.port, target.host, () => resolve());
    });
    server.unref();
    self = new MetricsServer(server, target.text);
    return self;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
