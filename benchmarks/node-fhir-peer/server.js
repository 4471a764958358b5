// The INT_R01 slot search served by a generic FHIR server stack, to compare with sas-host
// (docs/performance.md, "Host CPU per search, and a generic FHIR server side by side"):
// @asymmetrik/node-fhir-server-core (Express, its parameter sanitizer, its R4 resource classes and
// its Bundle writer) behind Node's https server with mutual TLS. The data is the generated agenda
// converted by convert_agenda.py, held in memory with an index per practitioner and per place
// (the cheapest store a vendor could have: the comparison favours the peer on data access).
//
//   node server.js --data PEER.json --cert server.pem --key server-key.pem --ca ca.pem \
//     [--listen 127.0.0.1:0] [--allow-client-subject "CN=sas.sante.fr,OU=SAS"] [--resource-classes yes|no]
// Prints "listening on https://127.0.0.1:PORT/4_0_1" on stdout when ready; stops on SIGTERM/SIGINT.
'use strict';

const fs = require('fs');
const https = require('https');
const express = require('express');
const FHIRServer = require('@asymmetrik/node-fhir-server-core');

const VERSION = '4_0_1';
const PRACTITIONER_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';

function parseArgs(argv) {
  const args = { listen: '127.0.0.1:0', 'allow-client-subject': 'CN=sas.sante.fr,OU=SAS', 'resource-classes': 'yes' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error('usage: see the head of server.js');
    args[key] = argv[i + 1];
  }
  for (const key of ['data', 'cert', 'key', 'ca']) {
    if (!args[key]) throw new Error('missing --' + key);
  }
  return args;
}

// Practitioner identifier -> its places; place -> its slots sorted by start.
function loadStore(path) {
  const data = JSON.parse(fs.readFileSync(path, 'utf8'));
  const practitioners = new Map(); // resource id -> { resource, places: [] }
  const byIdentifier = new Map(); // prefixed national id -> practitioner entry
  for (const p of data.practitioners) {
    const entry = { resource: p.resource, places: [] };
    practitioners.set(p.resource.id, entry);
    byIdentifier.set(p.identifier, entry);
  }
  const places = new Map(); // place id -> { practitioner, schedule, role, slots: [] }
  for (const place of data.places) {
    const entry = { practitioner: practitioners.get(place.practitioner), schedule: place.schedule, role: place.role, slots: [] };
    places.set(place.schedule.id, entry);
    entry.practitioner.places.push(entry);
  }
  for (const s of data.slots) {
    places.get(s.resource.schedule.reference.slice('Schedule/'.length)).slots.push({ startMs: s.start_utc * 1000, resource: s.resource });
  }
  return { byIdentifier, places };
}

// The first index whose start is >= startMs (slots are sorted by start).
function lowerBound(slots, startMs) {
  let lo = 0;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (slots[mid].startMs < startMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function asList(value) {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function badRequest(text) {
  return new FHIRServer.ServerError(text, {
    statusCode: 400,
    issue: [{ severity: 'error', code: 'invalid', details: { text } }],
  });
}

function slotService(store, baseUrl, useClasses) {
  const Bundle = FHIRServer.resolveSchema(VERSION, 'bundle');
  const BundleEntry = FHIRServer.resolveSchema(VERSION, 'bundleentry');
  const classes = {
    Slot: FHIRServer.resolveSchema(VERSION, 'slot'),
    Schedule: FHIRServer.resolveSchema(VERSION, 'schedule'),
    Practitioner: FHIRServer.resolveSchema(VERSION, 'practitioner'),
    PractitionerRole: FHIRServer.resolveSchema(VERSION, 'practitionerrole'),
  };
  // The core's way (its examples build every resource and the Bundle from its classes), or, with
  // --resource-classes no, plain objects: what Node, Express and JSON.stringify cost without them.
  const entry = useClasses
    ? (resource, mode) =>
        new BundleEntry({
          fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`,
          resource: new classes[resource.resourceType](resource),
          search: { mode },
        })
    : (resource, mode) => ({ fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode } });
  const bundle = useClasses ? (fields) => new Bundle(fields) : (fields) => ({ resourceType: 'Bundle', ...fields });

  return {
    // The chained parameter is read from the query itself (the core's sanitizer knows Slot's own
    // parameters only), the `start` range from where the middleware in main() put it.
    search: async (args, { req }) => {
      const query = req.query;
      query.start = req.startRange;
      const identifiers = asList(query['schedule.actor:Practitioner.identifier']).flatMap((v) => String(v).split(','));
      if (identifiers.length === 0) throw badRequest('schedule.actor:Practitioner.identifier is required');
      let fromMs = -Infinity;
      let toMs = Infinity;
      for (const bound of asList(query.start)) {
        const value = String(bound);
        const ms = Date.parse(value.slice(2));
        if (Number.isNaN(ms)) throw badRequest('start: not a dateTime: ' + value);
        if (value.startsWith('ge')) fromMs = ms;
        else if (value.startsWith('le')) toMs = ms;
        else throw badRequest('start: expected ge or le: ' + value);
      }
      const status = query.status;
      const includes = asList(query._include);
      const includeSchedule = includes.includes('Slot:schedule');
      const includeActors = asList(query['_include:iterate']).includes('Schedule:actor');

      const matches = [];
      for (const token of identifiers) {
        const bar = token.indexOf('|');
        if (bar < 0 || token.slice(0, bar) !== PRACTITIONER_SYSTEM) throw badRequest('practitioner identifier: expected ' + PRACTITIONER_SYSTEM + '|ID: ' + token);
        const practitioner = store.byIdentifier.get(token.slice(bar + 1));
        if (!practitioner) continue;
        for (const place of practitioner.places) {
          for (let i = lowerBound(place.slots, fromMs); i < place.slots.length && place.slots[i].startMs <= toMs; ++i) {
            const slot = place.slots[i];
            if (status === undefined || slot.resource.status === status) matches.push({ slot, place });
          }
        }
      }
      // By start, then by id as a string: sas-host's order, so that the two Bundles are the same.
      const byId = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
      matches.sort((a, b) => a.slot.startMs - b.slot.startMs || byId(a.slot.resource.id, b.slot.resource.id));

      const entries = [];
      const included = new Set();
      const include = (resource) => {
        const key = resource.resourceType + '/' + resource.id;
        if (included.has(key)) return;
        included.add(key);
        entries.push(entry(resource, 'include'));
      };
      for (const { slot, place } of matches) {
        entries.push(entry(slot.resource, 'match'));
        if (!includeSchedule) continue;
        include(place.schedule);
        if (!includeActors) continue;
        include(place.practitioner.resource);
        include(place.role);
      }
      return bundle({
        meta: { profile: ['http://sas.fr/fhir/StructureDefinition/BundleAgregateur'] },
        type: 'searchset',
        total: matches.length,
        link: [{ relation: 'self', url: baseUrl.slice(0, -('/' + VERSION).length) + req.originalUrl }],
        entry: entries,
      });
    },
  };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const store = loadStore(args.data);
  const [host, port] = args.listen.split(':');
  const allowed = args['allow-client-subject'];

  const app = express();
  // As sas-host's --allow-client-subject: the platform's certificate only.
  app.use((req, res, next) => {
    const subject = req.socket.getPeerCertificate().subject || {};
    if (`CN=${subject.CN},OU=${subject.OU}` === allowed) return next();
    res.status(403).type('application/fhir+json').send(JSON.stringify({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'forbidden', diagnostics: 'client certificate subject not allowed' }],
    }));
  });
  // The core's sanitizer answers 400 "start is invalid" to a repeated parameter (start=ge..&start=le..,
  // the range every INT_R01 search sends): the range is set aside before it and read by the service.
  app.use((req, res, next) => {
    if (req.query && req.query.start !== undefined) {
      req.startRange = req.query.start;
      delete req.query.start;
    }
    next();
  });

  const tls = {
    key: fs.readFileSync(args.key),
    cert: fs.readFileSync(args.cert),
    ca: fs.readFileSync(args.ca),
    requestCert: true,
    rejectUnauthorized: true,
  };
  const httpsServer = https.createServer(tls, app);
  httpsServer.keepAliveTimeout = 60000;
  httpsServer.listen(Number(port), host, () => {
    const baseUrl = `https://${host}:${httpsServer.address().port}/${VERSION}`;
    for (const place of store.places.values()) place.role.contained[0].identifier[0].system = baseUrl;
    const service = slotService(store, baseUrl, args['resource-classes'] !== 'no');
    FHIRServer.initialize({
      profiles: { Slot: { service, versions: [VERSION] } },
      logging: { level: 'error' },
      server: {},
    }, app);
    process.stdout.write(`listening on ${baseUrl}\n`);
  });
  const stop = () => httpsServer.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 2000).unref();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
