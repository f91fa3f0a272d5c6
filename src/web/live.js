// live.js: the tenant's WebSocket feed (/api/v1/sla/ws?tenant_id=…, the
// session cookie authenticates it), reconnecting with exponential backoff
// and jitter.  Listeners get every parsed message; the status element says
// live / connecting / offline.

export class LiveFeed {
  constructor(statusEl) {
    this.statusEl = statusEl;
    this.listeners = new Set();
    this.ws = null;
    this.tenant = null;
    this.attempt = 0;
    this.timer = null;
    this.closed = true;
    this.lastMessageAt = 0;
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  setStatus(s, label) {
    if (!this.statusEl) return;
    this.statusEl.dataset.state = s;
    const l = this.statusEl.querySelector('.live-label');
    if (l) l.textContent = label;
  }

  connect(tenant) {
    this.close();
    this.tenant = tenant;
    this.closed = false;
    this.open();
  }

  open() {
    if (this.closed || !this.tenant) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${proto}//${location.host}/api/v1/sla/ws?tenant_id=${encodeURIComponent(this.tenant)}`;
    this.setStatus('connecting', 'connecting');
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setStatus('live', 'live');
      this.emit({ type: 'live.open' });
    };
    ws.onmessage = (ev) => {
      this.lastMessageAt = Date.now();
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (msg && msg.tenant_id && msg.tenant_id !== this.tenant) return;
      this.emit(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.emit({ type: 'live.closed' });
      this.retry();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  retry() {
    if (this.closed) return;
    this.setStatus('off', 'reconnecting');
    const base = Math.min(30000, 1000 * 2 ** Math.min(this.attempt, 5));
    const delay = base / 2 + Math.random() * base / 2;
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), delay);
  }

  emit(msg) {
    for (const fn of this.listeners) {
      try {
        fn(msg);
      } catch (e) {
        console.warn('live listener failed', e);
      }
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close(1000);
    }
    this.setStatus('off', 'offline');
  }
}
