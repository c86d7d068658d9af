import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics, percentile } from '../../src/server/metrics.js';

test('nearest-rank percentiles', () => {
  const s = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(s, 50), 50);
  assert.equal(percentile(s, 99), 99);
  assert.equal(percentile(s, 100), 100);
  assert.equal(percentile(new Float64Array(0), 50), 0);
  assert.equal(percentile([7], 1), 7);
});

test('counts by route and status; the latency window stays bounded', () => {
  const m = new Metrics(8);
  for (let i = 0; i < 20; i++) m.begin()('/api/search', i % 5 === 0 ? 400 : 200);
  const end = m.begin();
  assert.equal(m.inFlightCount, 1);
  end('/api/health', 200);
  end('/api/health', 200); // a second call is ignored
  const s = m.snapshot() as any;
  assert.equal(s.requests.total, 21);
  assert.equal(s.requests.in_flight, 0);
  assert.deepEqual(s.requests.by_status, { 200: 17, 400: 4 });
  assert.equal(s.requests.by_route['/api/search'].count, 20);
  assert.equal(s.latency_ms.window, 8);
});
