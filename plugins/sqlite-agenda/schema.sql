-- The sqlite-agenda reference schema (version 1), documented in docs/plugins/sqlite-agenda.md.
-- Lists are stored as text: comma-separated codes, or one free-text item per line.
PRAGMA user_version = 1;

CREATE TABLE IF NOT EXISTS practitioner (
  id TEXT PRIMARY KEY,
  national_id TEXT NOT NULL,            -- RPPS (11 digits) or ADELI (9), with or without prefix
  family_name TEXT NOT NULL,
  given_names TEXT NOT NULL DEFAULT '', -- one per line
  phone TEXT                            -- any French format
);
CREATE INDEX IF NOT EXISTS practitioner_by_national_id ON practitioner(national_id);

CREATE TABLE IF NOT EXISTS practitioner_specialty (
  practitioner_id TEXT NOT NULL REFERENCES practitioner(id),
  code TEXT,                            -- TRE_R38 code (e.g. SM54) when coded
  label TEXT,                           -- free text when not coded
  CHECK (code IS NOT NULL OR label IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS specialty_by_practitioner ON practitioner_specialty(practitioner_id);

CREATE TABLE IF NOT EXISTS place (
  id TEXT PRIMARY KEY,
  practitioner_id TEXT NOT NULL REFERENCES practitioner(id),
  name TEXT,
  address TEXT NOT NULL,                -- one line per line
  postal_code TEXT NOT NULL,
  city TEXT NOT NULL,
  finess TEXT,                          -- structure ids, with or without their 1/3/4 prefix
  siret TEXT,
  rpps_rang TEXT,
  phone TEXT,
  booking_url TEXT                      -- the doctor's booking page for this place
);
CREATE INDEX IF NOT EXISTS place_by_practitioner ON place(practitioner_id);

CREATE TABLE IF NOT EXISTS slot (
  id INTEGER PRIMARY KEY,
  place_id TEXT NOT NULL REFERENCES place(id),
  start_utc INTEGER NOT NULL,           -- seconds since 1970-01-01T00:00:00Z
  end_utc INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('free', 'busy')),
  audiences TEXT NOT NULL,              -- comma-separated: PUBLIC, PRO, SNP, CPTS, PATIENTELE
  cpts TEXT,                            -- comma-separated FINESS of the CPTS that see the slot
  modes TEXT NOT NULL DEFAULT 'AMB',    -- comma-separated: AMB (practice), HH (home), VR (video)
  motives TEXT,                         -- one per line
  walk_in INTEGER NOT NULL DEFAULT 0,   -- 1: without appointment
  booking_url TEXT,                     -- overrides place.booking_url
  specialties TEXT,                     -- one per line, TRE_R38 code or text: overrides the practitioner's
  CHECK (end_utc > start_utc)
);
CREATE INDEX IF NOT EXISTS slot_by_place_start ON slot(place_id, start_utc);
-- The INT_R01 and CPTS searches read free slots from this index alone: it holds every column they
-- read (status too, or SQLite 3.40 would still read the table), for the free slots only (nearly
-- half the slot table's size when half the slots are free); the plugin's search costs 20 % less
-- CPU with it. Added within version 1: the plugin adds it to an older file at init; without it
-- (a read-only file) the searches read through slot_by_place_start, with the same answers.
CREATE INDEX IF NOT EXISTS slot_free_by_place_start ON slot(place_id, start_utc, end_utc, audiences, cpts, modes,
  motives, walk_in, booking_url, specialties, status) WHERE status = 'free';

-- INT_R04: the CPTS (communautés professionnelles territoriales de santé) that slots are opened
-- to (slot.cpts). A CPTS a slot names but that has no row here is still sent, by its FINESS alone.
CREATE TABLE IF NOT EXISTS cpts (
  finess TEXT PRIMARY KEY,              -- 9 characters, with or without the 1 prefix
  name TEXT,                            -- e.g. CPTS AXE MAJEUR
  phone TEXT                            -- any French format
);

-- INT_R02: SAS regulator accounts in the vendor's user base. An account is found by either
-- identifier; a national id (IDNPS) is unique among active accounts only, so one freed by a
-- deactivation can be given to another account.
CREATE TABLE IF NOT EXISTS regulator_account (
  id TEXT PRIMARY KEY,                  -- the vendor's account id (a UUID)
  national_id TEXT,                     -- IDNPS, prefixed (8+RPPS / 0+ADELI); NULL when none
  sas_id TEXT,                          -- INTRN: the SAS platform's technical id (a UUID)
  family_name TEXT NOT NULL,
  given_names TEXT NOT NULL,            -- one per line
  email TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,    -- 0: habilitation withdrawn
  password_hash TEXT,                   -- generated at creation; the regulator sets their own later
  terms_accepted_at INTEGER,            -- the vendor's terms, accepted at first login
  created_at INTEGER NOT NULL,          -- seconds since the epoch, UTC
  updated_at INTEGER NOT NULL,
  CHECK (national_id IS NOT NULL OR sas_id IS NOT NULL)
);
CREATE UNIQUE INDEX IF NOT EXISTS regulator_by_active_national_id
  ON regulator_account(national_id) WHERE active = 1 AND national_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS regulator_by_sas_id ON regulator_account(sas_id) WHERE sas_id IS NOT NULL;

-- Bookings made in the agenda. A SAS-origin booking carries the regulator who made it and when.
-- One at an SOS Médecins consultation place names the association (its SIRET, 14 digits with or
-- without the 3 prefix) and is reported without a practitioner. That column came within version
-- 1: the plugin adds it to an older file (ALTER TABLE appointment ADD COLUMN sos_association_siret TEXT).
CREATE TABLE IF NOT EXISTS appointment (
  id TEXT PRIMARY KEY,                  -- the vendor's appointment id (a UUID)
  slot_id INTEGER NOT NULL REFERENCES slot(id),
  sas_origin INTEGER NOT NULL DEFAULT 0,
  regulator_account_id TEXT REFERENCES regulator_account(id),
  regulator_id_system TEXT,             -- urn:oid:1.2.250.1.71.4.2.1 (IDNPS) or urn:oid:1.2.250.1.213.3.6 (INTRN)
  regulator_id_value TEXT,
  patient_label TEXT,                   -- what the booking form asked; never sent by search
  booked_at INTEGER NOT NULL,           -- seconds since the epoch, UTC
  status TEXT NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled', 'fulfilled', 'noshow')),
  sos_association_siret TEXT            -- SOS Médecins place: the association SIRET (ABI 1.5); NULL otherwise
);
CREATE INDEX IF NOT EXISTS appointment_by_slot ON appointment(slot_id);

-- What the plugin has reported to the host of each SAS-origin appointment (ABI 1.3
-- appointment_event, INT_R03): one row per (appointment, status), so that each state goes out
-- once, in order (booked first), even if the plugin stops between two reports.
CREATE TABLE IF NOT EXISTS appointment_notification (
  appointment_id TEXT NOT NULL REFERENCES appointment(id),
  status TEXT NOT NULL,                 -- booked, cancelled, fulfilled or noshow
  reported_at INTEGER NOT NULL,         -- when the host had it on disk, seconds UTC
  outbox_sequence INTEGER,              -- the host's sequence number for this appointment
  report_error TEXT,                    -- the host's refusal, when it refused the event for good
  PRIMARY KEY (appointment_id, status)
);

-- A consultation the doctor gave after an honoured (fulfilled) SAS-origin appointment, to report
-- to the host (ABI 1.2 report_consultation). The plugin reports each row once (reported_at).
CREATE TABLE IF NOT EXISTS consultation (
  id TEXT PRIMARY KEY,                  -- the vendor's consultation id (the sample uses the appointment id)
  appointment_id TEXT NOT NULL REFERENCES appointment(id),
  consulted_at INTEGER NOT NULL,        -- seconds since the epoch, UTC
  medecin_traitant INTEGER NOT NULL DEFAULT 0,  -- 1: the doctor is the patient's médecin traitant
  specialty TEXT,                       -- TRE_R38 code; NULL: the practitioner's first coded specialty
  opposable_tariff INTEGER NOT NULL DEFAULT 1,  -- 1: billed at the agreed (opposable) tariff
  tariff_sector TEXT,                   -- 1, 2, 2-OPTAM...: informative
  other_codes TEXT,                     -- comma-separated NGAP codes billed with it (G, MCG, ...)
  region TEXT,                          -- a region of the host's rule file (alsace-moselle), NULL: none
  reported_at INTEGER,                  -- when the host recorded it; NULL: still to report
  report_error TEXT                     -- the host's refusal, when it refused the report
);
CREATE INDEX IF NOT EXISTS consultation_to_report ON consultation(reported_at);

-- The host's SNP / MRT decision per consultation, for the invoicing module to pre-fill the codes.
CREATE TABLE IF NOT EXISTS billing_decision (
  consultation_id TEXT PRIMARY KEY,
  code TEXT NOT NULL,                   -- SNP, MRT, or '' (neither)
  parcours_indicator TEXT NOT NULL,     -- U with SNP
  amount_cents INTEGER NOT NULL,        -- euro cents
  rule_set TEXT NOT NULL,               -- the host's rule-file version
  reasons_fr TEXT NOT NULL,             -- every reason, one per line, "+ " met / "- " not met
  reasons_en TEXT NOT NULL,
  decided_at INTEGER NOT NULL           -- seconds since the epoch, UTC
);

-- Doctor settings the vendor's UI records (ABI 1.4): one row per change a doctor made to their
-- SAS options. The plugin pushes each row to the host once, in id order (pushed_at); NULL
-- columns are options the change leaves as they are.
CREATE TABLE IF NOT EXISTS sas_doctor_settings_change (
  id INTEGER PRIMARY KEY,
  practitioner_id TEXT NOT NULL,        -- practitioner.id, or the RPPS/ADELI itself (prefixed or not)
  volunteer INTEGER,                    -- 1/0: "Je participe au SAS"; NULL: unchanged
  visible INTEGER,                      -- 1/0: the agenda is visible to SAS
  consent_to_call INTEGER,              -- 1/0: call me before each orientation
  phone TEXT,                           -- the number to call, any French format; '' removes it
  -- when the doctor made the choice, seconds UTC (the host's effective time; never in the future)
  changed_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
  changed_by TEXT,                      -- the vendor's user id; NULL: the plugin's name
  pushed_at INTEGER,                    -- when the host answered; NULL: still to push
  error TEXT                            -- the host's refusal, when it refused the change (not retried)
);
CREATE INDEX IF NOT EXISTS settings_change_to_push ON sas_doctor_settings_change(pushed_at);

-- Publication rule requests from the vendor's UI (ABI 1.4), pushed like the settings changes:
-- 'add' a rule given in its JSON form (docs/doctor-options.md), or 'remove' the host's rule
-- rule_id (the host_rule_id of an earlier 'add').
CREATE TABLE IF NOT EXISTS sas_publication_rule_request (
  id INTEGER PRIMARY KEY,
  practitioner_id TEXT NOT NULL,        -- practitioner.id, or the RPPS/ADELI itself (prefixed or not)
  action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
  rule_json TEXT,                       -- add: e.g. {"kind":"snp-motives","motives":["Fièvre"]}
  rule_id INTEGER,                      -- remove: the host's rule id
  requested_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
  requested_by TEXT,                    -- the vendor's user id; NULL: the plugin's name
  pushed_at INTEGER,                    -- when the host answered; NULL: still to push
  host_rule_id INTEGER,                 -- add: the id the host gave the rule
  error TEXT                            -- the host's refusal (conflict, malformed, unknown rule)
);
CREATE INDEX IF NOT EXISTS rule_request_to_push ON sas_publication_rule_request(pushed_at);

-- Which instance of the plugin reports to the host (consultations, appointment events, settings
-- changes). Several instances may share one agenda (the runners of a host in process isolation,
-- several hosts): one reports at a time, the others wait until its lease expires unrenewed.
CREATE TABLE IF NOT EXISTS sas_reporter_lease (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  holder TEXT NOT NULL,                 -- host name, pid and a random number of the instance
  expires_at_ms INTEGER NOT NULL        -- milliseconds UTC; renewed once half of it has run
);

-- SOS Médecins (ABI 1.5, flow sos-search): the associations, their fixed consultation places
-- (centres de consultation), and the places' slots, which live in the slot table above:
-- slot.place_id names a place or an sos_place, never both (the triggers below refuse an id that
-- is already taken in the other table; slot.place_id's REFERENCES place(id) is therefore not
-- enforced for SOS slots: leave PRAGMA foreign_keys off when writing them). One slot table keeps
-- one id space for appointment.slot_id. Added within version 1: the plugin adds these to an
-- older file at init (CREATE ... IF NOT EXISTS), or answers SOS searches with nothing while it
-- cannot.
CREATE TABLE IF NOT EXISTS sos_association (
  siret TEXT PRIMARY KEY,               -- 14 digits, with or without its 3 prefix
  name TEXT NOT NULL                    -- e.g. SOS Médecins de Rennes
);

CREATE TABLE IF NOT EXISTS sos_place (
  id TEXT PRIMARY KEY,                  -- unique across place and sos_place
  association_siret TEXT NOT NULL REFERENCES sos_association(siret),
  name TEXT NOT NULL,                   -- e.g. Centre de consultation Rennes Nord
  address TEXT NOT NULL,                -- one line per line
  postal_code TEXT NOT NULL,
  city TEXT NOT NULL,
  phone TEXT,                           -- any French format
  opening_hours TEXT,                   -- one opening per line: "tue,wed,thu 08:00-19:00" (Paris time)
  booking_url TEXT                      -- the booking page of the place's slots; slot.booking_url overrides
);
CREATE INDEX IF NOT EXISTS sos_place_by_association ON sos_place(association_siret);

CREATE TRIGGER IF NOT EXISTS sos_place_id_is_not_a_place BEFORE INSERT ON sos_place
  WHEN EXISTS (SELECT 1 FROM place WHERE id = NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'sos_place.id is already a place.id: slot.place_id would name both');
END;
CREATE TRIGGER IF NOT EXISTS sos_place_new_id_is_not_a_place BEFORE UPDATE OF id ON sos_place
  WHEN EXISTS (SELECT 1 FROM place WHERE id = NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'sos_place.id is already a place.id: slot.place_id would name both');
END;
CREATE TRIGGER IF NOT EXISTS place_id_is_not_an_sos_place BEFORE INSERT ON place
  WHEN EXISTS (SELECT 1 FROM sos_place WHERE id = NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'place.id is already an sos_place.id: slot.place_id would name both');
END;
CREATE TRIGGER IF NOT EXISTS place_new_id_is_not_an_sos_place BEFORE UPDATE OF id ON place
  WHEN EXISTS (SELECT 1 FROM sos_place WHERE id = NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'place.id is already an sos_place.id: slot.place_id would name both');
END;
