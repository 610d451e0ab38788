/* report.js -- draws the report from its data document (the JSON in
 * #report-data; schema: sensor/report/report-data.schema.json).
 *
 * Every string of the data may come from the network (server names,
 * organisation names): it is only ever set as text, never as markup. The
 * page asks nothing of any network. */
(function () {
  'use strict';

  /* ------------------------------------------------------------ formatting */

  var NUM = new Intl.NumberFormat('en-US');
  var REGIONS = null;
  try {
    REGIONS = new Intl.DisplayNames(['en'], { type: 'region' });
  } catch (e) {
    REGIONS = null;
  }

  function fmtInt(n) {
    return n === null || n === undefined ? '\u2013' : NUM.format(n);
  }

  /* 1234567 -> "1.2 MiB"; bytes below 1 KiB as "512 B". */
  function fmtBytes(n) {
    if (n === null || n === undefined) return '\u2013';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    var v = n;
    var u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u === 0 ? NUM.format(v) + ' B' : v.toFixed(1) + ' ' + units[u];
  }

  /* RFC 3339 with microseconds -> "2023-11-14T22:13:20Z" (or with the
   * fraction when full is set). */
  function fmtTime(iso, full) {
    if (!iso) return '\u2013';
    return full ? iso : iso.replace(/\.\d+Z$/, 'Z');
  }

  function fmtDuration(seconds) {
    if (!(seconds >= 0)) return '\u2013';
    if (seconds < 1) return 'under a second';
    var parts = [];
    var d = Math.floor(seconds / 86400);
    var h = Math.floor((seconds % 86400) / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = Math.floor(seconds % 60);
    if (d) parts.push(d + ' d');
    if (h) parts.push(h + ' h');
    if (m && !d) parts.push(m + ' min');
    if (s && !d && !h) parts.push(s + ' s');
    return parts.join(' ');
  }

  function fmtBucket(seconds) {
    var names = [[604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
    for (var i = 0; i < names.length; i++) {
      var w = names[i][0];
      if (seconds >= w && seconds % w === 0) {
        var k = seconds / w;
        return k === 1 ? '1 ' + names[i][1] : k + ' ' + names[i][1] + 's';
      }
    }
    return seconds + ' s';
  }

  function countryName(cc) {
    if (!cc) return 'not located';
    var name = null;
    if (REGIONS) {
      try {
        name = REGIONS.of(cc);
      } catch (e) {
        name = null;
      }
    }
    return name && name !== cc ? name + ' (' + cc + ')' : cc;
  }

  function plural(n, one, many) {
    return fmtInt(n) + ' ' + (n === 1 ? one : many || one + 's');
  }

  /* A sort key for an address: IPv4 before IPv6, each in numeric order. */
  function ipKey(ip) {
    if (!ip) return '';
    if (ip.indexOf(':') < 0) {
      return '4' + ip.split('.').map(function (o) {
        return ('00' + o).slice(-3);
      }).join('.');
    }
    var halves = ip.split('::');
    var head = halves[0] ? halves[0].split(':') : [];
    var tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
    var fill = [];
    for (var i = head.length + tail.length; i < 8; i++) fill.push('0');
    return '6' + head.concat(halves.length > 1 ? fill : [], tail).map(function (g) {
      return ('0000' + g).slice(-4);
    }).join(':');
  }

  var EVIDENCE_KINDS = {
    tls_sni: 'TLS server name',
    quic_sni: 'QUIC server name',
    http_host: 'HTTP Host',
    dns_name: 'DNS name the host resolved',
    http_path: 'HTTP path',
    http_user_agent: 'HTTP User-Agent',
    cert_subject: 'Certificate subject',
    cert_issuer: 'Certificate issuer',
    ja3: 'TLS client fingerprint (JA3)',
    ja3s: 'TLS server fingerprint (JA3S)',
    ja4: 'TLS client fingerprint (JA4)',
    app: 'Application (nDPI label)',
    dissector: 'Vendor protocol recognised',
    cidr: 'Vendor address range',
    asn: 'Vendor network (AS)',
    port: 'Service port'
  };

  var SEVERITY_RANK = { low: 1, medium: 2, high: 3, critical: 4 };

  /* Okabe and Ito's palette, readable with the common colour blindnesses,
   * then Tol's muted one; colour is never the only label (lanes are named). */
  var PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#8C6D1F',
    '#332288', '#117733', '#AA4499', '#44AA99', '#882255', '#999933', '#6C7A89', '#661100',
    '#1F78B4'];
  var BAR = '#5b7aa6';
  var BAR_PRODUCT = '#b3261e';

  /* ------------------------------------------------------------ DOM */

  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }

  function append(parent, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) {
      child.forEach(function (c) {
        append(parent, c);
      });
    } else if (child instanceof Node) {
      parent.appendChild(child);
    } else {
      parent.appendChild(document.createTextNode(String(child)));
    }
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function fill(id) {
    var target = byId(id);
    for (var i = 1; i < arguments.length; i++) append(target, arguments[i]);
  }

  function facts(pairs) {
    return pairs.filter(function (p) {
      return p;
    }).map(function (p) {
      return el('div', null, el('dt', { text: p[0] }), el('dd', null, p[1]));
    });
  }

  function factList(target, pairs) {
    pairs.forEach(function (p) {
      if (!p) return;
      target.appendChild(el('dt', { text: p[0] }));
      target.appendChild(el('dd', null, p[1]));
    });
  }

  function sevBadge(sev) {
    if (!sev) return el('span', { class: 'muted', text: '\u2013' });
    return el('span', { class: 'badge sev-' + sev, text: sev });
  }

  /* Codes, each with its country's name for a pointer and a screen reader. */
  function countryCodes(list) {
    if (!list || !list.length) return el('span', { class: 'muted', text: '\u2013' });
    return list.map(function (cc, i) {
      return [i ? ', ' : null, el('abbr', { title: countryName(cc), text: cc })];
    });
  }

  function seen(first, last) {
    if (!first) return el('span', { class: 'muted', text: '\u2013' });
    return [el('div', { text: fmtTime(first) }), el('div', { class: 'muted', text: last && last !== first ?
      '\u2192 ' + fmtTime(last) : '\u2192 same' })];
  }

  function tags(list, cls) {
    if (!list || !list.length) return el('span', { class: 'muted', text: '\u2013' });
    return list.map(function (t) {
      return el('span', { class: 'tag' + (cls ? ' ' + cls : ''), text: t });
    });
  }

  /* ------------------------------------------------------------ tables */

  var tableCount = 0;

  /* A table that sorts (click a header) and filters (its text box).
   *   columns: {key, label, num, value(row) -> sort key, cell(row) -> node
   *             or text, className}
   *   rows:    the data, one group of rows each
   *   detail:  optional function(row, id) -> node: an expandable row
   *   sort:    {key, dir: 'asc'|'desc'} at first
   *   empty:   the text shown when there are no rows at all */
  function dataTable(opts) {
    var id = opts.id || 'table-' + ++tableCount;
    var filterId = id + '-filter';
    var columns = opts.columns.filter(function (c) {
      return c;
    });
    var ncols = columns.length + (opts.detail ? 1 : 0);
    var table = el('table', { class: 'data', id: id });
    if (opts.caption) table.appendChild(el('caption', { text: opts.caption }));
    var headRow = el('tr');
    var sortState = opts.sort || null;
    var headers = {};
    if (opts.detail) {
      headRow.appendChild(el('th', { scope: 'col', class: 'expand-col' },
        el('span', { class: 'visually-hidden', text: 'Evidence' })));
    }
    columns.forEach(function (c) {
      var th = el('th', { scope: 'col', class: c.num ? 'num' : null, 'aria-sort': 'none' });
      var b = el('button', { type: 'button', class: 'sort', 'data-key': c.key, text: c.label,
        title: 'Sort by ' + c.label.toLowerCase() });
      b.addEventListener('click', function () {
        var dir = c.num ? 'desc' : 'asc';
        if (sortState && sortState.key === c.key) dir = sortState.dir === 'asc' ? 'desc' : 'asc';
        sortState = { key: c.key, dir: dir };
        applySort();
      });
      th.appendChild(b);
      headers[c.key] = th;
      headRow.appendChild(th);
    });
    table.appendChild(el('thead', null, headRow));

    var groups = opts.rows.map(function (row, i) {
      var tbody = el('tbody', { class: 'group' });
      var tr = el('tr', { class: 'main' });
      var detailRow = null;
      if (opts.detail) {
        var did = id + '-detail-' + i;
        var btn = el('button', { type: 'button', class: 'expand', 'aria-expanded': 'false',
          'aria-controls': did, title: 'Show the evidence',
          'aria-label': 'Evidence: ' + (opts.describe ? opts.describe(row) : 'row ' + (i + 1)) },
        el('span', { class: 'expand-text', text: 'Evidence' }));
        tr.appendChild(el('td', { class: 'nowrap expand-col' }, btn));
        detailRow = el('tr', { class: 'detail', id: did, hidden: true },
          el('td', { colspan: ncols }, opts.detail(row, did)));
        btn.addEventListener('click', function () {
          var open = btn.getAttribute('aria-expanded') !== 'true';
          btn.setAttribute('aria-expanded', open ? 'true' : 'false');
          detailRow.hidden = !open;
        });
      }
      columns.forEach(function (c) {
        var content = c.cell ? c.cell(row) : row[c.key];
        var cls = [c.num ? 'num' : '', c.className || ''].join(' ').trim();
        tr.appendChild(el('td', { class: cls || null }, content));
      });
      tbody.appendChild(tr);
      if (detailRow) tbody.appendChild(detailRow);
      return {
        row: row,
        tbody: tbody,
        index: i,
        text: (tr.textContent + ' ' + (detailRow ? detailRow.textContent : '')).toLowerCase()
      };
    });

    var emptyBody = el('tbody', { class: 'empty-body' });
    var emptyCell = el('td', { class: 'empty', colspan: ncols });
    emptyBody.appendChild(el('tr', null, emptyCell));

    function value(c, row) {
      return c.value ? c.value(row) : row[c.key];
    }

    function applySort() {
      columns.forEach(function (c) {
        headers[c.key].setAttribute('aria-sort', 'none');
      });
      if (sortState) {
        var col = columns.filter(function (c) {
          return c.key === sortState.key;
        })[0];
        var sign = sortState.dir === 'asc' ? 1 : -1;
        headers[col.key].setAttribute('aria-sort', sortState.dir === 'asc' ? 'ascending' : 'descending');
        groups.sort(function (a, b) {
          var x = value(col, a.row);
          var y = value(col, b.row);
          if (x === null || x === undefined) x = col.num ? -Infinity : '';
          if (y === null || y === undefined) y = col.num ? -Infinity : '';
          var r = 0;
          if (typeof x === 'number' && typeof y === 'number') r = x - y;
          else if (col.plain) r = x < y ? -1 : x > y ? 1 : 0;
          else r = String(x).localeCompare(String(y), 'en', { numeric: true });
          return r !== 0 ? sign * r : a.index - b.index;
        });
      }
      groups.forEach(function (g) {
        table.appendChild(g.tbody);
      });
      table.appendChild(emptyBody);
    }

    var count = el('span', { class: 'count', 'aria-live': 'polite' });
    var input = el('input', { type: 'search', id: filterId, autocomplete: 'off', spellcheck: 'false',
      placeholder: 'Filter\u2026', 'aria-controls': id });

    function applyFilter() {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      groups.forEach(function (g) {
        var ok = !q || g.text.indexOf(q) >= 0;
        g.tbody.hidden = !ok;
        if (ok) shown++;
      });
      if (groups.length === 0) {
        emptyCell.textContent = opts.empty || 'Nothing to show.';
        emptyBody.hidden = false;
      } else if (shown === 0) {
        emptyCell.textContent = 'No row matches \u201c' + input.value.trim() + '\u201d.';
        emptyBody.hidden = false;
      } else {
        emptyBody.hidden = true;
      }
      count.textContent = q ? shown + ' of ' + plural(groups.length, 'row') : plural(groups.length, 'row');
    }
    input.addEventListener('input', applyFilter);

    applySort();
    applyFilter();
    var tools = el('div', { class: 'table-tools' },
      el('label', { for: filterId, text: opts.filterLabel || 'Filter this table' }), input, count);
    return el('div', { class: 'table-block' }, tools, el('div', { class: 'table-scroll' }, table));
  }

  /* ------------------------------------------------------------ charts */

  var charts = [];

  function chartDefaults() {
    if (!window.Chart) return;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 12;
    Chart.defaults.color = '#1b1f24';
    Chart.defaults.animation = false;
    Chart.defaults.responsive = true;
    Chart.defaults.maintainAspectRatio = false;
  }

  function chartEmpty(boxId, text) {
    var box = byId(boxId);
    box.textContent = '';
    box.style.height = 'auto';
    box.appendChild(el('p', { class: 'chart-empty', text: text }));
  }

  /* Horizontal bars of the first rows: label(row), value(row), and
   * highlight(row) for the bars drawn in the product colour. */
  function barChart(canvasId, boxId, rows, o) {
    var top = rows.slice(0, o.top || 12);
    if (!window.Chart || top.length === 0 || top.every(function (r) {
      return !o.value(r);
    })) {
      chartEmpty(boxId, o.empty);
      return;
    }
    byId(boxId).style.height = Math.max(160, 34 * top.length + 60) + 'px';
    var canvas = byId(canvasId);
    canvas.setAttribute('aria-label', o.aria + ': ' + top.map(function (r) {
      return o.label(r) + ' ' + o.format(o.value(r));
    }).join('; ') + '. The table below has every row.');
    charts.push(new Chart(canvas, {
      type: 'bar',
      data: {
        labels: top.map(o.label),
        datasets: [{
          label: o.series,
          data: top.map(o.value),
          backgroundColor: top.map(function (r) {
            return o.highlight && o.highlight(r) ? BAR_PRODUCT : BAR;
          }),
          borderWidth: 0,
          barPercentage: 0.8,
          categoryPercentage: 0.9
        }]
      },
      options: {
        indexAxis: 'y',
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                return ' ' + o.series + ': ' + o.format(ctx.parsed.x);
              }
            }
          }
        },
        scales: {
          x: {
            beginAtZero: true,
            grid: { color: '#e3e6ea' },
            ticks: { callback: function (v) {
              return o.format(v);
            } },
            title: { display: true, text: o.series }
          },
          y: { grid: { display: false }, ticks: { autoSkip: false } }
        }
      }
    }));
  }

  /* ------------------------------------------------------------ sections */

  /* The fleet view (--from-redis): many sensors' records read from Redis. */
  function isFleet(d) {
    return !!(d.run && d.run.mode === 'fleet');
  }

  function header(d) {
    var run = d.run || {};
    var parts = [];
    var fleet = isFleet(d);
    if (fleet) {
      byId('title').textContent = 'Foreign security products across the fleet';
      parts.push(plural((d.sensors || []).length, 'sensor') + ' pushing to ' + ((d.fleet || {}).redis || 'Redis'));
    } else if (d.sensor && d.sensor.name) {
      parts.push('Sensor ' + d.sensor.name);
    }
    if (run.first_seen) parts.push('traffic from ' + fmtTime(run.first_seen) + ' to ' + fmtTime(run.last_seen));
    if (run.mode === 'live') parts.push('live on ' + (run.interfaces || []).join(', '));
    else if (!fleet) parts.push(plural((run.inputs || []).length, 'capture file'));
    parts.push('report written ' + fmtTime(d.generated));
    byId('subtitle').textContent = parts.join(' \u00b7 ');
    document.title = 'Egress Sensor ' + (fleet ? 'fleet report' : 'report') +
      (!fleet && d.sensor && d.sensor.name ? ' \u2013 ' + d.sensor.name : '') +
      (run.first_seen ? ' \u2013 ' + run.first_seen.slice(0, 10) : '');
    if (fleet) {
      ['nav-sensors', 'nav-events'].forEach(function (id) {
        byId(id).hidden = false;
      });
    }
  }

  function productKey(p) {
    return p.vendor + '\u0000' + p.product;
  }

  function verdict(d) {
    var products = d.products || [];
    var run = d.run || {};
    var hosts = {};
    var vendors = {};
    var kinds = {};
    var countries = {};
    var bytes = 0;
    var alerts = 0;
    products.forEach(function (p) {
      hosts[p.host] = 1;
      vendors[p.vendor] = 1;
      kinds[productKey(p)] = 1;
      (p.countries || []).forEach(function (c) {
        countries[c] = 1;
      });
      bytes += p.bytes_out || 0;
      alerts += p.alerts || 0;
    });
    var fleet = isFleet(d);
    var sensorsWith = {};
    products.forEach(function (p) {
      if (p.sensor) sensorsWith[p.sensor] = 1;
    });
    var ns = Object.keys(sensorsWith).length;
    var nh = Object.keys(hosts).length;
    var nv = Object.keys(vendors).length;
    var np = Object.keys(kinds).length;
    var nc = Object.keys(countries).length;
    var summary = byId('verdict-summary');
    if (products.length === 0) {
      summary.className = 'verdict none';
      summary.textContent = 'No foreign security product was seen.';
      var egress = run.flows_by_direction ? run.flows_by_direction.egress : 0;
      summary.appendChild(el('span', { class: 'muted', text: ' (' + plural(egress, 'egress flow') +
        ' checked against ' + (d.signature_pack ? plural(d.signature_pack.signatures, 'signature') :
        'no signature pack: detection was off') + '.)' }));
    } else {
      summary.textContent = plural(nh, 'internal host') + (fleet ? ', seen by ' + plural(ns, 'sensor') + ',' : '') +
        ' sent traffic of ' + plural(np, 'foreign security product') + ' from ' + plural(nv, 'vendor') +
        (nc ? ' to ' + plural(nc, 'country', 'countries') : '') + '.';
    }
    fill('key-figures', facts([
      fleet ? ['Sensors', fmtInt((d.sensors || []).length)] : null,
      ['Internal hosts', fmtInt(nh)],
      ['Products', fmtInt(np)],
      ['Vendors', fmtInt(nv)],
      ['Destination countries', fmtInt(nc)],
      [fleet ? 'Alerts in the window' : 'Alerts', fmtInt(alerts)],
      ['Bytes out (products)', fmtBytes(bytes)]
    ]));
    if (fleet) {
      var vf = byId('verdict-fleet');
      vf.textContent = 'Fleet view: one row per sensor, internal host and product, from the inventory ' +
        'each sensor keeps in Redis across its runs. The evidence (indicators, networks, sample flows) ' +
        'and the alert counts come from the ' + plural(((d.fleet || {}).window || {}).alerts || 0, 'alert') +
        ' of the stream window read (see What was read).';
      vf.hidden = false;
    }

    var sigs = d.signatures || {};
    fill('products-table', dataTable({
      id: 'products',
      caption: 'Foreign security products found, per internal host',
      filterLabel: 'Filter the findings',
      empty: 'No foreign security product was seen.',
      rows: products,
      sort: { key: 'host', dir: 'asc' },
      describe: function (p) {
        return p.host + (p.sensor ? ' (' + p.sensor + ')' : '') + ', ' + p.vendor + ' ' + p.product;
      },
      detail: function (p) {
        return evidence(p, sigs, d);
      },
      columns: [
        { key: 'host', label: 'Host', plain: true, value: function (p) {
          return ipKey(p.host);
        }, cell: function (p) {
          return el('span', { class: 'host', text: p.host });
        } },
        fleet ? { key: 'sensor', label: 'Sensor', cell: function (p) {
          return el('span', { class: 'sensor', text: p.sensor || '' });
        } } : null,
        { key: 'vendor', label: 'Vendor' },
        { key: 'product', label: 'Product', className: 'col-product' },
        { key: 'relation', label: 'Relation: categories', value: function (p) {
          return (p.relation || []).join(',') + ':' + (p.categories || []).join(',');
        }, cell: function (p) {
          return [el('div', null, tags(p.relation, 'rel')), el('div', null, tags(p.categories))];
        } },
        { key: 'countries', label: 'Countries', value: function (p) {
          return (p.countries || []).join(',');
        }, cell: function (p) {
          return countryCodes(p.countries);
        } },
        { key: 'networks', label: 'Networks (AS)', className: 'col-net', value: function (p) {
          return (p.networks || []).map(function (n) {
            return n.as_org;
          }).join(',');
        }, cell: function (p) {
          if (!(p.networks || []).length) return el('span', { class: 'muted', text: '\u2013' });
          return p.networks.map(function (n) {
            return el('div', { class: 'net' }, el('span', { class: 'asn', text: 'AS' + n.asn }), ' ', n.as_org || '');
          });
        } },
        { key: 'first_seen', label: 'First / last seen (UTC)', className: 'nowrap', cell: function (p) {
          return seen(p.first_seen, p.last_seen);
        } },
        { key: 'flows', label: 'Flows', num: true, cell: function (p) {
          return fmtInt(p.flows);
        } },
        { key: 'bytes_out', label: 'Bytes out', num: true, className: 'nowrap', cell: function (p) {
          return fmtBytes(p.bytes_out);
        } },
        { key: 'alerts', label: 'Alerts', num: true, cell: function (p) {
          return fmtInt(p.alerts);
        } },
        { key: 'severity', label: 'Severity', value: function (p) {
          return SEVERITY_RANK[p.severity] || 0;
        }, cell: function (p) {
          return sevBadge(p.severity);
        } }
      ]
    }));
  }

  function evidence(p, sigs, d) {
    var fleet = isFleet(d);
    var box = el('div', { class: 'evidence' });
    if (!p.evidence_kept) {
      box.appendChild(el('p', { class: 'muted', text: 'The sensor kept no evidence for this host and ' +
        'product (its evidence store was full); the alerts output has every alert.' }));
      return box;
    }
    box.appendChild(el('h4', { text: 'Indicators that matched' }));
    if (!(p.indicators || []).length) {
      box.appendChild(el('p', { class: 'muted', text: 'None recorded.' }));
    } else {
      var t = el('table', { class: 'data' });
      t.appendChild(el('thead', null, el('tr', null,
        el('th', { scope: 'col', text: 'Indicator' }),
        el('th', { scope: 'col', text: 'What the traffic had' }),
        el('th', { scope: 'col', text: 'Signature pattern' }),
        el('th', { scope: 'col', text: 'Signature' }),
        el('th', { scope: 'col', class: 'num', text: 'Flows' }))));
      var tb = el('tbody');
      p.indicators.forEach(function (i) {
        tb.appendChild(el('tr', null,
          el('td', { text: EVIDENCE_KINDS[i.kind] || i.kind }),
          el('td', null, el('code', { text: i.value })),
          el('td', null, el('code', { text: i.pattern })),
          el('td', null, el('code', { text: i.signature_id })),
          el('td', { class: 'num', text: fmtInt(i.flows) })));
      });
      t.appendChild(tb);
      box.appendChild(t);
    }

    var ids = {};
    (p.indicators || []).forEach(function (i) {
      ids[i.signature_id] = 1;
    });
    (p.samples || []).forEach(function (s) {
      ids[s.signature_id] = 1;
    });
    var list = Object.keys(ids).sort().filter(function (id) {
      return sigs[id];
    });
    if (list.length) {
      box.appendChild(el('h4', { text: 'Signatures' }));
      box.appendChild(el('ul', null, list.map(function (id) {
        var s = sigs[id];
        return el('li', null, el('code', { text: id }), ': ', s.note || s.product, ' (' + s.category +
          ', base severity ' + s.severity + '; ' + s.file + '). Source: ', el('span', { class: 'mono', text: s.source }));
      })));
    }

    box.appendChild(el('h4', { text: 'Sample flows' }));
    if (!(p.samples || []).length) {
      box.appendChild(el('p', { class: 'muted', text: fleet ? 'No alert of this sensor, host and product ' +
        'is in the stream window read.' : 'No alert was kept as a sample.' }));
    } else {
      var list = el('ol', { class: 'samples' });
      p.samples.forEach(function (s) {
        var v6 = s.src_ip.indexOf(':') >= 0;
        var ep = function (ip, port) {
          return v6 ? '[' + ip + ']:' + port : ip + ':' + port;
        };
        var dest = (s.country_code ? countryName(s.country_code) : 'not located') +
          (s.asn ? ', AS' + s.asn + (s.as_org ? ' ' + s.as_org : '') : ', network not known');
        var item = el('li', { class: 'sample' },
          el('p', { class: 'sample-head' },
            el('span', { class: 'mono', text: ep(s.src_ip, s.src_port) + ' \u2192 ' + ep(s.dest_ip, s.dest_port) + ' ' + s.proto }),
            ' ', sevBadge(s.severity), ' ',
            el('span', { class: 'muted', text: fmtTime(s.timestamp, true) })),
          el('dl', { class: 'sample-facts' }, facts([
            ['Server name', s.server_name ? el('code', { text: s.server_name }) : '\u2013'],
            ['Application', s.app || '\u2013'],
            ['Destination', dest],
            ['Community ID', el('code', { text: s.community_id })],
            fleet ? ['Sensor', p.sensor || '\u2013'] : null,
            !fleet || s.capture_file ?
              ['Capture file', s.capture_file ? el('code', { text: s.capture_file }) : 'live capture'] : null,
            ['Sent / received', fmtBytes(s.bytes_toserver) + ' / ' + fmtBytes(s.bytes_toclient) + ' (' +
              fmtInt(s.pkts_toserver) + ' / ' + fmtInt(s.pkts_toclient) + ' packets) when matched'],
            ['Signature', [el('code', { text: s.signature_id }), ' (' + s.category + ', ' + s.confidence + ' confidence)']],
            ['Alert id', el('code', { text: s.alert_id })]
          ])));
        list.appendChild(item);
      });
      box.appendChild(list);
      if (p.samples_omitted > 0) {
        box.appendChild(el('p', { class: 'muted', text: 'And ' + plural(p.samples_omitted, 'more alert') +
          ' not kept as samples; ' + (fleet ? 'the alerts stream has every one.' :
          'the alerts output (--alerts) has every one.') }));
      }
    }
    return box;
  }

  function productCountries(d) {
    var set = {};
    (d.products || []).forEach(function (p) {
      (p.countries || []).forEach(function (c) {
        set[c] = 1;
      });
    });
    return set;
  }

  function productNetworks(d) {
    var set = {};
    (d.products || []).forEach(function (p) {
      (p.networks || []).forEach(function (n) {
        set[n.asn] = 1;
      });
    });
    return set;
  }

  function share(part, whole) {
    if (!(whole > 0)) return '\u2013';
    var pct = 100 * part / whole;
    return pct > 0 && pct < 0.05 ? '<0.1%' : pct.toFixed(1) + '%';
  }

  /* The fleet view has no per-country tallies of all traffic: its egress
   * sections are the alerted flows of the stream window. */
  function fleetLeads(d) {
    if (!isFleet(d)) return;
    var win = plural(((d.fleet || {}).window || {}).alerts || 0, 'alert');
    byId('countries-lead').textContent = 'From the ' + win + ' of the stream window, all sensors together: ' +
      'what each alerted host had sent when its flow matched, by the country of the destination. (The ' +
      'sensors push no per-country tallies of all their traffic to Redis; each sensor\u2019s own report has them.)';
    byId('networks-lead').textContent = 'The same alerted flows by the autonomous system (AS) announcing ' +
      'the destination address.';
    byId('apps-lead').textContent = 'The same alerted flows by the application nDPI recognised.';
  }

  // The flows, bytes out and share-of-egress columns of a traffic table.
  function trafficColumns(total) {
    return [
      { key: 'flows', label: 'Flows', num: true, cell: function (r) {
        return fmtInt(r.flows);
      } },
      { key: 'bytes_out', label: 'Bytes out', num: true, cell: function (r) {
        return fmtBytes(r.bytes_out);
      } },
      { key: 'share', label: 'Share', num: true, value: function (r) {
        return r.bytes_out;
      }, cell: function (r) {
        return share(r.bytes_out, total);
      } }
    ];
  }

  function countriesSection(d) {
    var eg = d.egress || {};
    var rows = (eg.countries || []).slice();
    var hot = productCountries(d);
    var total = eg.bytes_out || 0;
    barChart('chart-countries', 'chart-countries-box', rows, {
      label: function (r) {
        return countryName(r.country_code);
      },
      value: function (r) {
        return r.bytes_out;
      },
      highlight: function (r) {
        return hot[r.country_code];
      },
      format: fmtBytes,
      series: 'Bytes out',
      aria: 'Bytes sent out by destination country',
      empty: 'No egress flow to a located address.'
    });
    if (eg.unknown_country_bytes_out) {
      rows.push({ country_code: '', flows: null, bytes_out: eg.unknown_country_bytes_out });
    }
    fill('countries-table', dataTable({
      id: 'countries-data',
      caption: 'Egress by destination country',
      empty: 'No egress flow to a located address.',
      rows: rows,
      sort: { key: 'bytes_out', dir: 'desc' },
      columns: [
        { key: 'country', label: 'Country', value: function (r) {
          return countryName(r.country_code);
        }, cell: function (r) {
          return [countryName(r.country_code), hot[r.country_code] ? [' ', el('span', { class: 'key key-product', text: 'product traffic' })] : null];
        } }
      ].concat(trafficColumns(total))
    }));
  }

  function networksSection(d) {
    var eg = d.egress || {};
    var rows = (eg.networks || []).slice();
    var hot = productNetworks(d);
    var total = eg.bytes_out || 0;
    var name = function (r) {
      return r.asn ? 'AS' + r.asn + (r.as_org ? ' ' + r.as_org : '') : r.label;
    };
    barChart('chart-networks', 'chart-networks-box', rows, {
      label: name,
      value: function (r) {
        return r.bytes_out;
      },
      highlight: function (r) {
        return hot[r.asn];
      },
      format: fmtBytes,
      series: 'Bytes out',
      aria: 'Bytes sent out by destination network',
      empty: 'No egress flow to an address with a known network.'
    });
    if (eg.unknown_network && eg.unknown_network.flows) {
      rows.push({ asn: 0, label: 'Network not known', flows: eg.unknown_network.flows, bytes_out: eg.unknown_network.bytes_out });
    }
    if (eg.other_networks && eg.other_networks.flows) {
      rows.push({ asn: 0, label: 'Other networks (beyond the tally)', flows: eg.other_networks.flows, bytes_out: eg.other_networks.bytes_out });
    }
    fill('networks-table', dataTable({
      id: 'networks-data',
      caption: 'Egress by destination network',
      empty: 'No egress flow.',
      rows: rows,
      sort: { key: 'bytes_out', dir: 'desc' },
      columns: [
        { key: 'asn', label: 'AS', num: true, cell: function (r) {
          return r.asn ? 'AS' + r.asn : '\u2013';
        } },
        { key: 'as_org', label: 'Organisation', value: function (r) {
          return r.as_org || r.label || '';
        }, cell: function (r) {
          return [r.as_org || r.label || '\u2013', hot[r.asn] ? [' ', el('span', { class: 'key key-product', text: 'product traffic' })] : null];
        } }
      ].concat(trafficColumns(total))
    }));
  }

  function appsSection(d) {
    var rows = d.applications || [];
    var anyOut = rows.some(function (r) {
      return r.bytes_out > 0;
    });
    barChart('chart-apps', 'chart-apps-box', rows, {
      label: function (r) {
        return r.app;
      },
      value: function (r) {
        return anyOut ? r.bytes_out : r.bytes;
      },
      format: fmtBytes,
      series: anyOut ? 'Bytes out' : 'Bytes',
      aria: 'Top applications by bytes ' + (anyOut ? 'sent out' : ''),
      empty: 'No flow was seen.'
    });
    fill('apps-table', dataTable({
      id: 'apps-data',
      caption: 'Applications',
      empty: 'No flow was seen.',
      rows: rows,
      sort: { key: 'bytes_out', dir: 'desc' },
      columns: [
        { key: 'app', label: 'Application', cell: function (r) {
          return el('code', { text: r.app });
        } },
        { key: 'flows', label: 'Flows', num: true, cell: function (r) {
          return fmtInt(r.flows);
        } },
        { key: 'bytes', label: 'Bytes (both ways)', num: true, cell: function (r) {
          return fmtBytes(r.bytes);
        } },
        { key: 'bytes_out', label: 'Bytes out', num: true, cell: function (r) {
          return fmtBytes(r.bytes_out);
        } }
      ]
    }));
  }

  /* One lane per product, one column per time bucket; a dot's area says
   * how much of the chosen measure the product had in that bucket. */
  function timelineSection(d) {
    var tl = d.timeline || {};
    var lead = byId('timeline-lead');
    var lanes = (tl.series || []).slice().sort(function (a, b) {
      return (a.vendor + ' ' + a.product).localeCompare(b.vendor + ' ' + b.product);
    });
    if (!window.Chart || !tl.buckets || !lanes.length) {
      lead.textContent = 'Flows, alerts and bytes of each foreign security product over time.';
      chartEmpty('chart-timeline-box', 'No foreign security product was seen, so there is no timeline.');
      return;
    }
    var start = Date.parse(tl.start);
    var step = tl.bucket_s * 1000;
    var iso = function (i) {
      return new Date(start + i * step).toISOString().replace(/\.\d+Z$/, 'Z');
    };
    var short = function (i) {
      var t = iso(i);
      if (tl.bucket_s >= 86400) return t.slice(0, 10);
      return tl.buckets * tl.bucket_s > 86400 ? t.slice(5, 16).replace('T', ' ') : t.slice(11, 19);
    };
    lead.textContent = (isFleet(d) ? 'From the alerts of the stream window, all sensors together. ' : '') +
      'One lane per product; each column is ' + fmtBucket(tl.bucket_s) + ' of traffic (UTC), from ' +
      iso(0) + ' to ' + iso(tl.buckets) + '. A dot\u2019s size shows how much the product sent in that time. ' +
      'Flows and alerts count when a flow matched; bytes out count where their flow started.';
    var metrics = {
      flows: { label: 'Flows', format: fmtInt },
      alerts: { label: 'Alerts', format: fmtInt },
      bytes_out: { label: 'Bytes out', format: fmtBytes }
    };
    var metric = 'flows';
    var vendors = [];
    lanes.forEach(function (l) {
      if (vendors.indexOf(l.vendor) < 0) vendors.push(l.vendor);
    });
    var laneName = function (l) {
      return l.vendor + ' \u2013 ' + l.product;
    };
    function datasets() {
      var max = 0;
      lanes.forEach(function (l) {
        l[metric].forEach(function (v) {
          if (v > max) max = v;
        });
      });
      return vendors.map(function (v, k) {
        var pts = [];
        lanes.forEach(function (l, y) {
          if (l.vendor !== v) return;
          l[metric].forEach(function (n, x) {
            if (n > 0) pts.push({ x: times[x], y: names[y], r: 4 + 10 * Math.sqrt(n / max), v: n, lane: y, bucket: x });
          });
        });
        return { label: v, data: pts, backgroundColor: PALETTE[k % PALETTE.length] + 'cc',
          borderColor: PALETTE[k % PALETTE.length], borderWidth: 1 };
      });
    }
    /* category axes: a column per bucket, a row per lane */
    var times = [];
    for (var i = 0; i < tl.buckets; i++) times.push(iso(i));
    var names = lanes.map(laneName);
    var canvas = byId('chart-timeline');
    function describe() {
      canvas.setAttribute('aria-label', metrics[metric].label + ' per ' + fmtBucket(tl.bucket_s) + ' by product, from ' +
        iso(0) + ': ' + lanes.map(function (l) {
          var total = 0;
          var first = -1;
          var last = -1;
          l[metric].forEach(function (v, i) {
            total += v;
            if (v > 0 && first < 0) first = i;
            if (v > 0) last = i;
          });
          return laneName(l) + ' ' + metrics[metric].format(total) + (first >= 0 ? ' between ' + iso(first) +
            ' and ' + iso(last + 1) : '');
        }).join('; ') + '.');
    }
    describe();
    byId('chart-timeline-box').style.height = Math.max(180, 26 * lanes.length + 110) + 'px';
    var chart = new Chart(canvas, {
      type: 'bubble',
      data: { datasets: datasets() },
      options: {
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 12, usePointStyle: true } },
          tooltip: {
            callbacks: {
              title: function (items) {
                return items[0].raw.x + ' (' + fmtBucket(tl.bucket_s) + ')';
              },
              label: function (ctx) {
                return ' ' + ctx.raw.y + ': ' + metrics[metric].format(ctx.raw.v) + ' ' +
                  metrics[metric].label.toLowerCase();
              }
            }
          }
        },
        scales: {
          x: {
            type: 'category',
            labels: times,
            offset: true,
            grid: { color: '#eef0f3' },
            ticks: { maxTicksLimit: 14, maxRotation: 0, callback: function (v) {
              return short(v);
            } },
            title: { display: true, text: 'Time (UTC), ' + fmtBucket(tl.bucket_s) + ' per column' }
          },
          y: {
            type: 'category',
            labels: names,
            offset: true,
            grid: { color: '#eef0f3' },
            ticks: { autoSkip: false }
          }
        }
      }
    });
    charts.push(chart);
    var select = el('select', { id: 'timeline-metric' },
      Object.keys(metrics).map(function (k) {
        return el('option', { value: k, text: metrics[k].label });
      }));
    select.addEventListener('change', function () {
      metric = select.value;
      chart.data.datasets = datasets();
      chart.update();
      describe();
    });
    fill('timeline-controls', el('label', { for: 'timeline-metric', text: 'Dot size shows' }), select);
  }

  function hostsSection(d) {
    var hosts = d.hosts || [];
    var fleet = isFleet(d);
    if (fleet) {
      byId('hosts-lead').textContent = 'Every internal host a sensor\u2019s inventory holds, with all its ' +
        'products together, one row per sensor that saw it; counts and times are the inventory\u2019s, ' +
        'kept by each sensor across its runs.';
    }
    fill('hosts-table', dataTable({
      id: 'hosts-data',
      caption: 'Internal hosts with foreign security products',
      empty: 'No internal host sent traffic of a foreign security product.',
      rows: hosts,
      sort: { key: 'host', dir: 'asc' },
      columns: [
        { key: 'host', label: 'Host', plain: true, value: function (h) {
          return ipKey(h.host);
        }, cell: function (h) {
          return el('span', { class: 'host', text: h.host });
        } },
        fleet ? { key: 'sensor', label: 'Sensor', cell: function (h) {
          return el('span', { class: 'sensor', text: h.sensor || '' });
        } } : null,
        { key: 'products', label: 'Products', value: function (h) {
          return (h.products || []).length;
        }, cell: function (h) {
          return (h.products || []).map(function (p, i) {
            return [i ? el('br') : null, p.vendor + ' ' + p.product];
          });
        } },
        { key: 'countries', label: 'Countries', value: function (h) {
          return (h.countries || []).join(',');
        }, cell: function (h) {
          return countryCodes(h.countries);
        } },
        { key: 'first_seen', label: 'First / last seen (UTC)', className: 'nowrap', cell: function (h) {
          return seen(h.first_seen, h.last_seen);
        } },
        { key: 'flows', label: 'Flows', num: true, cell: function (h) {
          return fmtInt(h.flows);
        } },
        { key: 'bytes_out', label: 'Bytes out', num: true, cell: function (h) {
          return fmtBytes(h.bytes_out);
        } },
        { key: 'alerts', label: 'Alerts', num: true, cell: function (h) {
          return fmtInt(h.alerts);
        } }
      ]
    }));
  }

  var STATE_TEXT = {
    running: 'running',
    stopped: 'stopped',
    silent: 'silent'
  };

  function stateBadge(s) {
    return el('span', { class: 'badge state-' + s.state, text: STATE_TEXT[s.state] || s.state,
      title: s.state === 'running' ? 'heartbeat ' + fmtTime(s.heartbeat) :
        s.state === 'stopped' ? 'stopped cleanly ' + fmtTime(s.stopped_at) : 'no heartbeat key' });
  }

  function counter(s, name) {
    var c = s.counters || {};
    return c[name] === undefined ? null : c[name];
  }

  /* Fleet view: which sensors push to this Redis, and how each is. */
  function sensorsSection(d) {
    if (!isFleet(d)) return;
    byId('sensors').hidden = false;
    var sensors = d.sensors || [];
    fill('sensors-table', dataTable({
      id: 'sensors-data',
      caption: 'Sensors pushing to ' + ((d.fleet || {}).redis || 'Redis'),
      filterLabel: 'Filter the sensors',
      empty: 'No sensor has a key under this prefix.',
      rows: sensors,
      sort: { key: 'name', dir: 'asc' },
      columns: [
        { key: 'name', label: 'Sensor', cell: function (s) {
          return el('span', { class: 'sensor', text: s.name });
        } },
        { key: 'state', label: 'State', cell: function (s) {
          return stateBadge(s);
        } },
        { key: 'last_update', label: 'Last update (UTC)', className: 'nowrap', cell: function (s) {
          return s.last_update ? fmtTime(s.last_update) : el('span', { class: 'muted', text: 'never' });
        } },
        { key: 'hosts', label: 'Hosts', num: true, cell: function (s) {
          return fmtInt(s.hosts);
        } },
        { key: 'findings', label: 'Findings', num: true, cell: function (s) {
          return fmtInt(s.findings);
        } },
        { key: 'alerts_in_window', label: 'Alerts in window', num: true, cell: function (s) {
          return fmtInt(s.alerts_in_window);
        } },
        { key: 'packets', label: 'Packets', num: true, value: function (s) {
          return counter(s, 'packets.total');
        }, cell: function (s) {
          return fmtInt(counter(s, 'packets.total'));
        } },
        { key: 'flows', label: 'Flows', num: true, value: function (s) {
          return counter(s, 'flows.total');
        }, cell: function (s) {
          return fmtInt(counter(s, 'flows.total'));
        } },
        { key: 'alerts', label: 'Alerts (run)', num: true, value: function (s) {
          return counter(s, 'detection.alerts');
        }, cell: function (s) {
          return fmtInt(counter(s, 'detection.alerts'));
        } },
        { key: 'drops', label: 'Kernel drops', num: true, value: function (s) {
          return counter(s, 'capture.kernel_drops');
        }, cell: function (s) {
          return fmtInt(counter(s, 'capture.kernel_drops'));
        } },
        { key: 'redis', label: 'Its Redis output', value: function (s) {
          return s.redis_state || '';
        }, cell: function (s) {
          var lost = counter(s, 'redis.lost');
          return [s.redis_state || '\u2013', lost ? el('div', { class: 'muted', text: plural(lost, 'alert') + ' lost' }) : null,
            s.redis_last_error ? el('div', { class: 'muted', text: s.redis_last_error }) : null];
        } }
      ]
    }));
  }

  /* Fleet view: the asset events of the window, newest first. */
  function eventsSection(d) {
    if (!isFleet(d)) return;
    byId('events').hidden = false;
    var f = d.fleet || {};
    if (f.asset_events_omitted) {
      byId('events-lead').append(' The newest ' + fmtInt(f.asset_events_max) + ' are shown; ' +
        plural(f.asset_events_omitted, 'older one') + ' of the window are not.');
    }
    fill('events-table', dataTable({
      id: 'events-data',
      caption: 'Asset events of the stream window',
      filterLabel: 'Filter the events',
      empty: 'No asset event in the stream window read.',
      rows: d.asset_events || [],
      sort: { key: 'timestamp', dir: 'desc' },
      columns: [
        { key: 'timestamp', label: 'Time (UTC)', className: 'nowrap', cell: function (e) {
          return fmtTime(e.timestamp);
        } },
        { key: 'sensor', label: 'Sensor', cell: function (e) {
          return el('span', { class: 'sensor', text: e.sensor });
        } },
        { key: 'host', label: 'Host', plain: true, value: function (e) {
          return ipKey(e.host);
        }, cell: function (e) {
          return el('span', { class: 'host', text: e.host });
        } },
        { key: 'vendor', label: 'Vendor' },
        { key: 'product', label: 'Product', className: 'col-product' },
        { key: 'relation', label: 'Relation', cell: function (e) {
          return tags([e.relation], 'rel');
        } },
        { key: 'evidence', label: 'Evidence', value: function (e) {
          return e.evidence ? e.evidence.kind + ' ' + e.evidence.value : '';
        }, cell: function (e) {
          if (!e.evidence) return el('span', { class: 'muted', text: '\u2013' });
          return [el('div', { class: 'muted', text: EVIDENCE_KINDS[e.evidence.kind] || e.evidence.kind }),
            el('code', { text: e.evidence.value })];
        } },
        { key: 'device', label: 'Device', value: function (e) {
          var v = e.device || {};
          return [v.model, v.serial, v.name].join(' ');
        }, cell: function (e) {
          var v = e.device || {};
          var text = [v.model, v.serial, v.name].filter(function (x) {
            return x;
          }).join(' ');
          return text || el('span', { class: 'muted', text: '\u2013' });
        } }
      ]
    }));
  }

  /* Fleet view: what was read from Redis, instead of the files. */
  function fleetRead(d) {
    var f = d.fleet || {};
    var w = f.window || {};
    var run = d.run || {};
    var dirs = run.flows_by_direction || {};
    var sensors = d.sensors || [];
    var states = { running: 0, stopped: 0, silent: 0 };
    sensors.forEach(function (s) {
      states[s.state] = (states[s.state] || 0) + 1;
    });
    factList(byId('read-figures'), [
      ['Source', [el('code', { text: f.redis || '' }), ', keys under ', el('code', { text: (f.key_prefix || '') + ':' }),
        ', alerts stream ', el('code', { text: f.stream || '' })]],
      ['Sensors', plural(sensors.length, 'sensor') + ': ' + fmtInt(states.running) + ' running, ' +
        fmtInt(states.stopped) + ' stopped, ' + fmtInt(states.silent) + ' silent'],
      ['Stream window', fmtInt(w.entries) + ' of ' + plural(w.stream_length, 'entry', 'entries') + ' read, the newest first (at most ' +
        fmtInt(w.max) + '): ' + plural(w.alerts, 'alert') + ', ' + plural(w.asset_events, 'asset event') +
        (w.other_entries ? ', ' + plural(w.other_entries, 'other entry', 'other entries') : '') +
        (w.first ? '; added to the stream from ' + fmtTime(w.first) + ' to ' + fmtTime(w.last) : '') +
        (w.complete ? ' (the whole stream)' : ' (older entries not read)')],
      ['Traffic of the sensors', 'their latest runs together, from their stats hashes: ' + fmtInt(run.packets) +
        ' packets (' + fmtBytes(run.bytes) + '), ' + fmtInt(run.flows) + ' flows (' + fmtInt(dirs.egress) +
        ' egress), ' + fmtBytes(run.bytes_out) + ' sent out, ' + fmtInt(run.alerts) + ' alerts' +
        (run.capture_drops ? ', ' + fmtInt(run.capture_drops) + ' packets dropped by the kernel' : '')],
      ['Damaged records', f.records_damaged ? plural(f.records_damaged, 'record') + ' not as documented, skipped' :
        'none']
    ]);
    byId('inputs-h').textContent = 'Damaged records';
    if (!(f.damaged || []).length) {
      fill('inputs-table', el('p', { class: 'muted', text: 'Every record read was as the README documents it.' }));
    } else {
      fill('inputs-table', dataTable({
        id: 'damaged-data',
        caption: 'Records skipped' + (f.records_damaged > f.damaged.length ? ' (the first ' + f.damaged.length + ')' : ''),
        rows: f.damaged,
        columns: [
          { key: 'key', label: 'Key', cell: function (x) {
            return el('code', { text: x.key });
          } },
          { key: 'field', label: 'Field or entry', cell: function (x) {
            return x.field ? el('code', { text: x.field }) : el('span', { class: 'muted', text: 'the key' });
          } },
          { key: 'reason', label: 'Why' }
        ]
      }));
    }
  }

  function readSection(d) {
    var run = d.run || {};
    var dirs = run.flows_by_direction || {};
    var sev = run.alerts_by_severity || {};
    var span = run.first_seen && run.last_seen ? (Date.parse(run.last_seen) - Date.parse(run.first_seen)) / 1000 : null;
    var files = run.inputs || [];
    var fileText = run.mode === 'live' ? 'live on ' + (run.interfaces || []).join(', ') :
      plural(files.length, 'file') + (run.files_truncated ? ', ' + fmtInt(run.files_truncated) + ' truncated' : '') +
      (run.files_damaged ? ', ' + fmtInt(run.files_damaged) + ' damaged (read up to the damage)' : '') +
      (run.files_failed ? ', ' + fmtInt(run.files_failed) + ' could not be read' : '');
    if (isFleet(d)) fleetRead(d);
    else factList(byId('read-figures'), [
      ['Input', fileText],
      ['Traffic from', run.first_seen ? fmtTime(run.first_seen) + ' to ' + fmtTime(run.last_seen) +
        ' (' + fmtDuration(span) + ')' : 'no packet'],
      ['Packets', fmtInt(run.packets) + ' (' + fmtBytes(run.bytes) + ' on the wire' +
        (run.malformed_packets ? ', ' + fmtInt(run.malformed_packets) + ' malformed' : '') + ')'],
      ['Flows', fmtInt(run.flows) + ': ' + fmtInt(dirs.egress) + ' egress, ' + fmtInt(dirs.ingress) + ' ingress, ' +
        fmtInt(dirs.internal) + ' internal, ' + fmtInt(dirs.external) + ' external'],
      ['Bytes out', fmtBytes(run.bytes_out) + ' sent from inside to outside'],
      ['Alerts', fmtInt(run.alerts) + ' (' + ['critical', 'high', 'medium', 'low'].map(function (s) {
        return fmtInt(sev[s] || 0) + ' ' + s;
      }).join(', ') + '); ' + fmtInt(run.alerts_suppressed) + ' repeats suppressed'],
      run.mode === 'live' ? ['Capture drops', fmtInt(run.capture_drops) + ' by the kernel, ' +
        fmtInt(run.capture_if_drops) + ' by the interface'] : null
    ]);

    if (isFleet(d)) {
      /* the Redis read, above */
    } else if (run.mode === 'live') {
      byId('inputs-h').textContent = 'Interfaces';
      fill('inputs-table', el('p', { text: (run.interfaces || []).join(', ') }));
    } else {
      fill('inputs-table', dataTable({
        id: 'inputs-data',
        caption: 'Capture files, in the order read',
        empty: 'No file was read.',
        rows: files.map(function (f, i) {
          return Object.assign({ order: i + 1 }, f);
        }),
        sort: { key: 'order', dir: 'asc' },
        columns: [
          { key: 'order', label: '#', num: true },
          { key: 'name', label: 'File', cell: function (f) {
            return el('code', { title: f.path, text: f.name });
          } },
          { key: 'status', label: 'Status' },
          { key: 'packets', label: 'Packets', num: true, cell: function (f) {
            return fmtInt(f.packets);
          } },
          { key: 'bytes', label: 'Bytes', num: true, cell: function (f) {
            return fmtBytes(f.bytes);
          } },
          { key: 'first_seen', label: 'First packet', className: 'nowrap', cell: function (f) {
            return fmtTime(f.first_seen);
          } },
          { key: 'last_seen', label: 'Last packet', className: 'nowrap', cell: function (f) {
            return fmtTime(f.last_seen);
          } }
        ]
      }));
    }

    var pack = d.signature_pack;
    if (!pack) {
      byId('pack-summary').textContent = 'No signature pack: detection was off (signatures.dir is empty).';
    } else {
      byId('pack-summary').append(plural(pack.signatures, 'signature') + ' in ' + plural(pack.files.length, 'vendor file') + ' from ',
        el('code', { text: pack.dir }), '.');
      fill('pack-table', dataTable({
        id: 'pack-data',
        caption: 'Signature pack files',
        empty: 'No file.',
        rows: pack.files,
        sort: { key: 'file', dir: 'asc' },
        columns: [
          { key: 'file', label: 'File', cell: function (f) {
            return el('code', { text: f.file });
          } },
          { key: 'vendor', label: 'Vendor' },
          { key: 'signatures', label: 'Signatures', num: true }
        ]
      }));
    }

    var geo = d.geo || {};
    var cfg = d.config || {};
    var s = d.sensor || {};
    var db = function (g) {
      if (!g || !g.loaded) return [el('span', { text: 'not loaded' }), g && g.path ? [' (', el('code', { text: g.path }), ')'] : null];
      return [g.description + ' ', '(', el('code', { text: g.path }), ')'];
    };
    var fleet = isFleet(d);
    factList(byId('setup-facts'), [
      fleet ? null : ['Country database', db(geo.country)],
      fleet ? null : ['AS database', db(geo.asn)],
      [fleet ? 'Written by' : 'Sensor', 'egress-sensor ' + s.version + ' named \u201c' + (s.name || '') + '\u201d; nDPI ' + s.ndpi +
        '; ' + s.libpcap],
      ['Configuration', cfg.file ? el('code', { text: cfg.file }) : 'built-in defaults'],
      ['Inside (home_net)', (cfg.home_net || []).join(', ')],
      ['Home countries', (cfg.home_countries || []).length ? cfg.home_countries.map(countryName).join(', ') :
        'none set (every located destination counts as foreign for severity)'],
      ['Alert suppression', 'one alert per host, signature and country per ' + fmtDuration(cfg.suppress_window_s)],
      ['Report written', fmtTime(d.generated) + ' (data format ' + d.report_version + ')']
    ]);

    var lim = d.limits || {};
    var notes = [];
    if (lim.hosts_evicted) notes.push(plural(lim.hosts_evicted, 'host') + ' dropped from the inventory for room: the findings miss them.');
    if (lim.products_dropped) notes.push(plural(lim.products_dropped, 'product') + ' not recorded: a host already had the most products the inventory keeps.');
    if (lim.evidence_pairs_dropped) notes.push(plural(lim.evidence_pairs_dropped, 'match', 'matches') + ' found no room in the evidence store.');
    if (lim.indicators_dropped) notes.push(plural(lim.indicators_dropped, 'indicator') + ' beyond the number kept per host and product.');
    if (lim.timeline_products_dropped) notes.push(plural(lim.timeline_products_dropped, 'timeline event') + ' of products beyond the number the timeline keeps.');
    if (lim.networks_other_flows) notes.push(plural(lim.networks_other_flows, 'egress flow') + ' to networks beyond the tally are counted as other networks.');
    var fl = d.fleet || {};
    if (fl.hosts_dropped) notes.push(plural(fl.hosts_dropped, 'host record') + ' beyond the ' + fmtInt(fl.hosts_max) + ' the fleet view keeps were not read.');
    if (fl.findings_dropped) notes.push(plural(fl.findings_dropped, 'finding') + ' beyond the ' + fmtInt(fl.findings_max) + ' the fleet view keeps were not read.');
    if (fl.sensors_dropped) notes.push(plural(fl.sensors_dropped, 'sensor') + ' beyond the ' + fmtInt(fl.sensors_max) + ' the fleet view keeps were not read.');
    if (fl.alerts_without_finding) notes.push(plural(fl.alerts_without_finding, 'alert') + ' of the window name a host and product no sensor\u2019s inventory holds (the inventory dropped it, or it was deleted).');
    if (fl.window && !fl.window.complete) notes.push('The stream holds older entries than the window read (--stream-window).');
    if (notes.length) {
      fill('limits', el('h3', { text: 'Limits reached' }), el('ul', null, notes.map(function (n) {
        return el('li', { text: n });
      })));
    }
    byId('footer-text').textContent = 'egress-sensor ' + (s.version || '') + (fleet ? ' \u00b7 fleet view' : '') + ' \u00b7 report data format ' +
      d.report_version + ' \u00b7 written ' + fmtTime(d.generated) + '. All times are UTC.';
  }

  /* ------------------------------------------------------------ start */

  function load() {
    var node = byId('report-data');
    var text = node ? node.textContent : '';
    if (text.indexOf('@@REPORT' + '_DATA@@') >= 0) {
      throw new Error('This is the report template, without data: egress-sensor --report FILE writes a report from it.');
    }
    var d = JSON.parse(text);
    if (typeof d.report_version !== 'number' || d.report_version > 1) {
      throw new Error('This report\u2019s data has format ' + d.report_version + ', newer than this page reads (1).');
    }
    return d;
  }

  function main() {
    var d;
    try {
      d = load();
    } catch (e) {
      var box = byId('load-error');
      box.textContent = e instanceof SyntaxError ? 'The report data cannot be read: ' + e.message : e.message;
      box.hidden = false;
      return;
    }
    chartDefaults();
    header(d);
    verdict(d);
    sensorsSection(d);
    fleetLeads(d);
    countriesSection(d);
    networksSection(d);
    appsSection(d);
    timelineSection(d);
    hostsSection(d);
    eventsSection(d);
    readSection(d);
    /* charts follow the page's width when it is printed */
    window.addEventListener('beforeprint', function () {
      charts.forEach(function (c) {
        c.resize();
      });
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
  else main();
})();
