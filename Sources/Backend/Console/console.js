// stam operator console: one plain script, no framework, no build step, nothing from a CDN.
//
// What the operator sees comes from two places: the REST API (/api/*, with the bearer token) gives the
// state at login and after every reconnect; the /ws live feed gives the changes in between. A console that
// missed events (reconnect, backend restart, too slow) therefore re-reads everything instead of trusting
// what it had. There are no inline handlers or styles anywhere, so the backend's strict
// Content-Security-Policy (default-src 'self') holds; all text goes in through textContent, never HTML.
'use strict';

(() => {
  // The alarm stack's classes, most urgent first (schema/entities.yaml: AlarmPriority, alarm_stack).
  const PRIORITIES = ['fire', 'hold_up', 'medical', 'burglary', 'alarm', 'trouble', 'tamper', 'open_close', 'test'];
  const PRIORITY_RANK = Object.fromEntries(PRIORITIES.map((priority, index) => [priority, index]));
  const PRIORITY_LABEL = { fire: 'Fire', hold_up: 'Hold-up', medical: 'Medical', burglary: 'Burglary', alarm: 'Alarm',
    trouble: 'Trouble', tamper: 'Tamper', open_close: 'Open/close', test: 'Test' };
  const SUPERVISING_ROLES = ['supervisor', 'admin'];  // alerted when an alarm escalates; close alarms as a group
  const NEVER_IN_BULK = ['fire'];  // schema/entities.yaml alarm_stack: bulk_close: false (the server refuses them too)
  // A fire alarm moved to another class is still a fire alarm.
  const bulkClosable = (alarm) => !NEVER_IN_BULK.includes(alarm.priority) && alarm.kind !== 'fire';
  // Alarm states only move forward: an event that arrives after our own action's answer must not undo it.
  const STATE_RANK = { new: 0, acknowledged: 1, in_progress: 2, closed: 3 };
  const STATE_LABEL = { new: 'New', acknowledged: 'Acknowledged', in_progress: 'In progress', closed: 'Closed' };
  const OPEN_STATES = ['new', 'acknowledged', 'in_progress'];
  const CONTROL_ROLES = ['supervisor', 'admin'];  // schema/entities.yaml: Panel actions arm, disarm
  const COMMAND_LABEL = { requested: 'sent, waiting for the panel…', sent: 'sent to the panel…', succeeded: 'succeeded',
    failed: 'failed', expired: 'expired before the panel took it' };
  const SESSION_KEY = 'stam.session';
  const SOUND_KEY = 'stam.sound';
  const PING_EVERY_MS = 20000;
  const SILENCE_LIMIT_MS = 50000;  // no message (not even a pong) for this long: the link is dead
  const READY_LIMIT_MS = 15000;    // a connection not ready by then (a half-dead server, a stuck proxy) is given up

  const $ = (id) => document.getElementById(id);
  const ui = {
    linkStatus: $('link-status'), sessionControls: $('session-controls'), soundToggle: $('sound-toggle'), who: $('who'),
    logout: $('logout'), message: $('message'), messageText: $('message-text'), messageDismiss: $('message-dismiss'),
    loginView: $('login-view'), loginForm: $('login-form'), loginName: $('login-name'), loginPassword: $('login-password'),
    loginSubmit: $('login-submit'), loginError: $('login-error'), consoleView: $('console-view'),
    alarmsHeading: $('alarms-heading'), alarmCount: $('alarm-count'), alarmEmpty: $('alarm-empty'), alarmList: $('alarm-list'),
    panelCount: $('panel-count'), panelEmpty: $('panel-empty'), panelList: $('panel-list'),
    noteDialog: $('note-dialog'), noteForm: $('note-form'), noteHeading: $('note-heading'), noteAlarm: $('note-alarm'),
    noteText: $('note-text'), noteError: $('note-error'), noteCancel: $('note-cancel'), noteSubmit: $('note-submit'),
    announcer: $('announcer'),
    alarmTemplate: $('alarm-template'), panelTemplate: $('panel-template'), partitionTemplate: $('partition-template'),
    alarmDialog: $('alarm-dialog'), avPriority: $('av-priority'), avTitle: $('av-title'), avDismiss: $('av-dismiss'), avMeta: $('av-meta'),
    avStatus: $('av-status'), avActions: $('av-actions'), avTransfer: $('av-transfer'), avTransferTo: $('av-transfer-to'), avError: $('av-error'),
    avSite: $('av-site'), avComments: $('av-comments'), avContacts: $('av-contacts'), avPlanEmpty: $('av-plan-empty'), avSteps: $('av-steps'),
    avQuickNotes: $('av-quick-notes'), avNoteForm: $('av-note-form'), avNote: $('av-note'), avTimeline: $('av-timeline'),
    avCloseForm: $('av-close-form'), avCloseNote: $('av-close-note'), avOverride: $('av-override'), avOverrideReason: $('av-override-reason'),
    avCloseSubmit: $('av-close-submit'), stepTemplate: $('step-template'), contactTemplate: $('contact-template'),
    kpiOpen: $('kpi-open'), kpiDialog: $('kpi-dialog'), kpiDismiss: $('kpi-dismiss'), kpiForm: $('kpi-form'), kpiFrom: $('kpi-from'),
    kpiTo: $('kpi-to'), kpiPeriod: $('kpi-period'), kpiBy: $('kpi-by'), kpiCsv: $('kpi-csv'), kpiError: $('kpi-error'),
    kpiChart: $('kpi-chart'), kpiTable: $('kpi-table'),
    groupBar: $('group-bar'), groupCount: $('group-count'), groupClose: $('group-close'), groupClear: $('group-clear'),
    groupDialog: $('group-dialog'), groupForm: $('group-form'), groupAlarms: $('group-alarms'), groupReason: $('group-reason'),
    groupError: $('group-error'), groupCancel: $('group-cancel'), groupSubmit: $('group-submit'),
  };

  // The backend writes UUIDs in upper case in some places and lower case in others: compare lower case.
  const key = (id) => (id == null ? null : String(id).toLowerCase());
  const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
  const formatTime = (iso) => { const date = new Date(iso); return Number.isNaN(date.getTime()) ? '' : timeFormat.format(date); };

  let session = null;            // { token, login, role, operatorId, expiresAt }
  let expiryTimer = null;
  const alarms = new Map();      // id -> alarm (open ones only)
  const alarmRows = new Map();   // id -> <li>
  const announced = new Set();   // ids of new alarms already beeped for
  let firstSyncDone = false;
  const sites = new Map();       // id -> site
  const panels = new Map();      // id -> panel model (see panelModel)
  const panelRows = new Map();   // id -> <li>
  const commands = new Map();    // command id -> { panelId, label } of our own commands still running
  const earlyResults = new Map();// command id -> CommandCompleted payload that came before our 202 answer

  // MARK: Messages to the operator

  function showMessage(text, kind = 'error') {
    ui.messageText.textContent = text;
    ui.message.dataset.kind = kind;
    ui.message.hidden = false;
  }
  ui.messageDismiss.addEventListener('click', () => { ui.message.hidden = true; });

  function announce(text) {
    ui.announcer.textContent = '';
    requestAnimationFrame(() => { ui.announcer.textContent = text; });
  }

  // MARK: Sound (WebAudio, so no audio file): browsers start audio only after a user gesture, which the
  // login gives; after a reload the first click or key press does, and the button says so until then.

  let audio = null;
  let soundOn = localStorage.getItem(SOUND_KEY) !== 'off';

  function unlockAudio() {
    try {
      if (!audio) {
        audio = new AudioContext();
        audio.addEventListener('statechange', renderSoundToggle);
      }
      if (audio.state === 'suspended') audio.resume().catch(() => {});
    } catch (error) {
      audio = null;
    }
    renderSoundToggle();
  }
  document.addEventListener('pointerdown', unlockAudio, true);
  document.addEventListener('keydown', unlockAudio, true);

  function renderSoundToggle() {
    const running = audio && audio.state === 'running';
    ui.soundToggle.setAttribute('aria-pressed', String(soundOn));
    ui.soundToggle.textContent = !soundOn ? 'Sound off' : running ? 'Sound on' : 'Enable sound';
  }
  ui.soundToggle.addEventListener('click', () => {
    soundOn = !soundOn;
    localStorage.setItem(SOUND_KEY, soundOn ? 'on' : 'off');
    renderSoundToggle();
    if (soundOn) beep('alarm');
  });

  function beep(priority) {
    if (!soundOn || !audio || audio.state !== 'running') return;
    const rank = PRIORITY_RANK[priority] ?? PRIORITIES.length;
    const count = rank <= 1 ? 3 : rank <= 3 ? 2 : 1;  // fire and hold-up three times, medical and burglary twice
    const frequency = rank <= 1 ? 1046 : 880;
    for (let index = 0; index < count; index += 1) {
      const start = audio.currentTime + index * 0.22;
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = 'square';
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.15, start + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.17);
    }
  }

  // MARK: REST

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (session) headers.Authorization = `Bearer ${session.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new ApiError(0, 'network', 'The station cannot be reached; check the network.');
    }
    noteServerTime(response.headers.get('Date'));
    const text = await response.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch (error) { data = null; } }
    if (!response.ok) {
      const error = (data && data.error) || {};
      const fields = (error.fields || []).map((field) => `${field.field}: ${field.message}`).join('; ');
      let message = error.message || `${response.status} ${response.statusText}`;
      if (fields) message += ` (${fields})`;
      if (response.status === 401 && session && path !== '/api/auth/login') endSession('Your session has ended; please log in again.');
      throw new ApiError(response.status, error.code || '', message);
    }
    return data;
  }

  // Every page of a list (keyset pagination: `after` is the previous page's next_cursor).
  async function listAll(path, params = {}) {
    const items = [];
    let after = null;
    for (let page = 0; page < 100; page += 1) {
      const query = new URLSearchParams({ ...params, limit: '500' });
      if (after) query.set('after', after);
      const data = await api('GET', `${path}?${query}`);
      items.push(...data.items);
      after = data.next_cursor;
      if (!after) break;
    }
    return items;
  }

  // MARK: Session (the token lives in sessionStorage: it survives a reload, not the closed tab)

  function decodeClaims(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    } catch (error) {
      return {};
    }
  }

  function storedSession() {
    try {
      const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY));
      if (stored && stored.token && stored.expiresAt > Date.now()) return stored;
    } catch (error) { /* not JSON: forget it */ }
    sessionStorage.removeItem(SESSION_KEY);
    return null;
  }

  ui.loginForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    unlockAudio();
    ui.loginError.hidden = true;
    ui.loginSubmit.disabled = true;
    const login = ui.loginName.value.trim();
    try {
      const answer = await api('POST', '/api/auth/login', { login, password: ui.loginPassword.value });
      const claims = decodeClaims(answer.access_token);
      session = {
        token: answer.access_token, login: claims.login || login, role: answer.role, operatorId: key(claims.sub),
        expiresAt: Date.now() + answer.expires_in * 1000,
      };
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
      ui.loginPassword.value = '';
      startConsole();
    } catch (error) {
      ui.loginError.textContent = error.status === 401 ? 'Wrong login or password.' : error.message;
      ui.loginError.hidden = false;
      ui.loginPassword.focus();
    } finally {
      ui.loginSubmit.disabled = false;
    }
  });

  // Logging out ends the session on the station too (its token stops working at once); the console does not wait
  // for the answer, and a station it cannot reach still gets the local logout.
  ui.logout.addEventListener('click', () => {
    if (session) api('POST', '/api/auth/logout').catch(() => {});
    endSession();
  });

  function startConsole() {
    ui.loginView.hidden = true;
    ui.consoleView.hidden = false;
    ui.sessionControls.hidden = false;
    ui.linkStatus.hidden = false;
    ui.message.hidden = true;
    ui.who.textContent = `${session.login} (${session.role})`;
    ui.kpiOpen.hidden = !SUPERVISING_ROLES.includes(session.role);
    renderSoundToggle();
    clearTimeout(expiryTimer);
    expiryTimer = setTimeout(() => endSession('Your session has expired; please log in again.'),
      Math.min(session.expiresAt - Date.now(), 2147483647));
    ui.alarmsHeading.focus();
    loadEverything().finally(connect);
  }

  function endSession(reason) {
    if (!session) return;
    session = null;
    sessionStorage.removeItem(SESSION_KEY);
    clearTimeout(expiryTimer);
    disconnect();
    for (const collection of [alarms, alarmRows, announced, sites, panels, panelRows, commands, earlyResults]) collection.clear();
    firstSyncDone = false;
    ui.alarmList.replaceChildren();
    ui.panelList.replaceChildren();
    if (ui.noteDialog.open) ui.noteDialog.close();
    if (ui.alarmDialog.open) ui.alarmDialog.close();
    if (ui.kpiDialog.open) ui.kpiDialog.close();
    ui.consoleView.hidden = true;
    ui.sessionControls.hidden = true;
    ui.linkStatus.hidden = true;
    ui.message.hidden = true;
    ui.loginView.hidden = false;
    document.title = 'stam console';
    if (reason) {
      ui.loginError.textContent = reason;
      ui.loginError.hidden = false;
    }
    ui.loginName.focus();
  }

  async function loadEverything() {
    try {
      await loadReference();
      await syncAlarms();
    } catch (error) {
      if (session) showMessage(`Loading failed: ${error.message}`);
    }
  }

  // MARK: Live feed (/ws): auth, subscribe, snapshot, events; reconnect with capped, jittered backoff

  let socket = null;
  let attempt = 0;
  let everReady = false;
  let reconnectTimer = null;
  let readyTimer = null;
  let keepaliveTimer = null;
  let lastMessageAt = 0;
  // "Live" only while the station's own feed is connected and everything shown was read since the last gap.
  let feedInterrupted = false;
  let catchingUp = false;

  function setLink(state, text) {
    ui.linkStatus.dataset.state = state;
    ui.linkStatus.textContent = text;
  }

  function showLiveOrCatchingUp() {
    if (feedInterrupted) setLink('catching-up', 'Station feed interrupted, catching up…');
    else if (catchingUp) setLink('catching-up', 'Catching up…');
    else setLink('live', 'Live');
  }

  // Everything shown is read again: after (re)subscribing and whenever the station says events may have been missed.
  async function catchUp(ws) {
    catchingUp = true;
    showLiveOrCatchingUp();
    try {
      await syncAlarms();
    } catch (error) {
      showMessage(`Loading alarms failed: ${error.message}`);
    }
    checkRunningCommands();
    if (socket !== ws) return;
    catchingUp = false;
    showLiveOrCatchingUp();
  }

  function connect() {
    if (!session) return;
    clearTimeout(reconnectTimer);
    setLink('connecting', attempt === 0 ? 'Connecting…' : 'Reconnecting…');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/ws`);
    socket = ws;
    lastMessageAt = Date.now();
    ws.addEventListener('open', () => {
      // The token goes in the first message, never in the URL (logs keep URLs).
      if (socket === ws && session) ws.send(JSON.stringify({ type: 'auth', token: session.token }));
    });
    ws.addEventListener('message', (event) => { if (socket === ws) onSocketMessage(ws, event.data); });
    ws.addEventListener('close', () => {
      if (socket !== ws) return;
      socket = null;
      scheduleReconnect();
    });
    clearInterval(keepaliveTimer);
    keepaliveTimer = setInterval(() => keepalive(ws), PING_EVERY_MS);
    clearTimeout(readyTimer);
    readyTimer = setTimeout(() => giveUp(ws), READY_LIMIT_MS);
  }

  // Drops a connection at once rather than waiting for a close that may take minutes to come.
  function giveUp(ws) {
    if (socket !== ws) return;
    socket = null;
    ws.close();
    scheduleReconnect();
  }

  function keepalive(ws) {
    if (socket !== ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastMessageAt > SILENCE_LIMIT_MS) {
      giveUp(ws);
      return;
    }
    ws.send(JSON.stringify({ type: 'ping' }));
  }

  function scheduleReconnect() {
    clearInterval(keepaliveTimer);
    clearTimeout(readyTimer);
    if (!session) return;
    const delay = Math.min(15000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    setLink('offline', `Offline, reconnecting in ${Math.ceil(delay / 1000)} s`);
    reconnectTimer = setTimeout(connect, delay);
  }

  function disconnect() {
    clearTimeout(reconnectTimer);
    clearTimeout(readyTimer);
    clearInterval(keepaliveTimer);
    const ws = socket;
    socket = null;
    attempt = 0;
    everReady = false;
    if (ws) ws.close(1000, 'logout');
  }

  async function onSocketMessage(ws, text) {
    lastMessageAt = Date.now();
    let message;
    try { message = JSON.parse(text); } catch (error) { return; }
    switch (message.type) {
      case 'ready':
        clearTimeout(readyTimer);
        attempt = 0;
        feedInterrupted = message.feed === 'interrupted';
        if (everReady) {
          // Reconnected: panels may have been added or changed while we were away.
          try { await loadReference(); } catch (error) { showMessage(`Loading panels failed: ${error.message}`); }
          if (socket !== ws) return;
        }
        everReady = true;
        ws.send(JSON.stringify({ type: 'subscribe', alarms: true, panels: [...panels.keys()] }));
        break;
      case 'subscribed':
        // Whatever happened before this subscription is read again; what happens after arrives as events.
        catchUp(ws);
        break;
      case 'resync':
        // The station's feed may have missed events (it reconnected to the broker, or its queue dropped some):
        // subscribing again brings fresh snapshots, and 'subscribed' re-reads the alarms.
        catchingUp = true;
        showLiveOrCatchingUp();
        ws.send(JSON.stringify({ type: 'subscribe', alarms: true, panels: [...panels.keys()] }));
        break;
      case 'feed':
        feedInterrupted = message.state === 'interrupted';
        showLiveOrCatchingUp();
        break;
      case 'snapshot':
        applySnapshot(key(message.panel_id), message.state || {});
        break;
      case 'event':
        onEvent(message);
        break;
      case 'error':
        if (message.code === 'unauthorized') endSession('Your session has ended; please log in again.');
        // The station closes a live connection whose session ended (expired, logged out elsewhere, revoked,
        // the operator changed); the message says which.
        if (message.code === 'session_ended') endSession(`Your session has ended: ${message.message}. Please log in again.`);
        break;
      default:
        break;  // pong
    }
  }

  // MARK: Server time (waiting times are measured in the station's clock, not this computer's)

  let serverOffsetMs = 0;  // server time - local time, from the Date header of the last answer (1 s resolution)

  function noteServerTime(header) {
    const server = Date.parse(header || '');
    if (!Number.isNaN(server)) serverOffsetMs = server - Date.now();
  }

  const serverNow = () => Date.now() + serverOffsetMs;

  function formatWait(ms) {
    const seconds = Math.max(0, Math.floor(ms / 1000));
    if (seconds < 60) return `${seconds} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
    const hours = Math.floor(minutes / 60);
    return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} days`;
  }

  // MARK: Alarms

  let alarmBuffer = null;  // alarm events that arrive while the list is being re-read, applied after it
  let syncRunning = null;  // the re-read in progress; a caller during it waits for the pass it asked for
  let syncAgain = false;

  function syncAlarms() {
    if (syncRunning) { syncAgain = true; return syncRunning; }
    const running = readAlarmsUntilCurrent();
    syncRunning = running;
    running.then(() => {}, () => {}).then(() => { if (syncRunning === running) syncRunning = null; });
    return running;
  }

  async function readAlarmsUntilCurrent() {
    {
      do {
        syncAgain = false;
        alarmBuffer = [];
        try {
          const lists = await Promise.all(OPEN_STATES.map((state) => listAll('/api/alarms', { state, sort: 'raised_at', direction: 'desc' })));
          replaceAlarms(lists.flat());
        } finally {
          const buffered = alarmBuffer;
          alarmBuffer = null;
          for (const event of buffered) applyAlarmEvent(event);
        }
      } while (syncAgain && session);
    }
  }

  function normaliseAlarm(alarm) {
    return { ...alarm, id: key(alarm.id), site_id: key(alarm.site_id), panel_id: key(alarm.panel_id), assignee_id: key(alarm.assignee_id) };
  }

  function replaceAlarms(list) {
    if (!session) return;
    const fresh = new Map(list.map((alarm) => [key(alarm.id), normaliseAlarm(alarm)]));
    for (const id of [...alarms.keys()]) if (!fresh.has(id)) alarms.delete(id);
    for (const [id, alarm] of fresh) alarms.set(id, alarm);
    renderAlarms();
    firstSyncDone = true;
  }

  function onEvent(message) {
    if (message.routing_key && message.routing_key.startsWith('alarm.')) {
      if (alarmBuffer) alarmBuffer.push(message);
      else applyAlarmEvent(message);
    } else {
      applyPanelEvent(message);
    }
  }

  function applyAlarmEvent(message) {
    const payload = message.payload || {};
    const id = key(payload.alarm_id);
    if (!id) return;
    switch (message.name) {
      case 'AlarmRaised':
        if (payload.on_test) return;  // its site or panel is on test: recorded closed, not for the stack
        if (!alarms.has(id)) {
          alarms.set(id, normaliseAlarm({
            id, site_id: payload.site_id, panel_id: payload.panel_id, kind: payload.kind, priority: payload.priority,
            title: payload.title, zone_number: payload.zone_number, partition_number: payload.partition_number,
            raised_at: payload.raised_at, state: 'new', assignee_id: null,
          }));
        }
        break;
      case 'AlarmEscalated': {
        const alarm = alarms.get(id);
        if (!alarm) { refreshAlarm(id); return; }
        if (alarm.escalated_at) return;
        alarms.set(id, { ...alarm, escalated_at: payload.at });
        if (alarm.state === 'new' && session && SUPERVISING_ROLES.includes(session.role)) {
          beep(alarm.priority);
          announce(`Escalated, not acknowledged in time: ${alarm.title}`);
        }
        break;
      }
      case 'AlarmAcknowledged':
        advance(id, 'acknowledged', { acknowledged_at: payload.at });
        break;
      case 'AlarmTaken':
        advance(id, 'in_progress', { taken_at: payload.at, assignee_id: key(payload.operator_id) });
        break;
      // Released, reassigned, moved to another class or restored: read it as it is now.
      case 'AlarmRestored':
      case 'AlarmReleased':
      case 'AlarmAssigned':
      case 'AlarmPriorityChanged':
        refreshAlarm(id);
        break;
      case 'AlarmStepRecorded':
        break;
      case 'AlarmRepeated': {
        const alarm = alarms.get(id);
        if (!alarm) { refreshAlarm(id); return; }
        alarms.set(id, { ...alarm, reports: Math.max(alarm.reports || 1, payload.reports || 1) });
        break;
      }
      case 'AlarmClosed':
        alarms.delete(id);
        break;
      default:
        return;
    }
    if (id === viewId) scheduleViewReload();
    renderAlarms();
  }

  function advance(id, state, changes) {
    const alarm = alarms.get(id);
    if (!alarm) { refreshAlarm(id); return; }  // raised while we were away: read it
    if (STATE_RANK[state] <= STATE_RANK[alarm.state]) return;
    alarms.set(id, { ...alarm, ...changes, state });
  }

  // Puts one alarm as the API has it now (after a 409, or an event about an alarm we do not know).
  async function refreshAlarm(id) {
    try {
      const alarm = normaliseAlarm(await api('GET', `/api/alarms/${id}`));
      if (alarm.state === 'closed') alarms.delete(id); else alarms.set(id, alarm);
    } catch (error) {
      if (error.status === 404) alarms.delete(id);
    }
    renderAlarms();
  }

  // The stack: by class, most urgent first, then the one that has waited longest.
  function compareAlarms(a, b) {
    const byPriority = (PRIORITY_RANK[a.priority] ?? PRIORITIES.length) - (PRIORITY_RANK[b.priority] ?? PRIORITIES.length);
    if (byPriority !== 0) return byPriority;
    return Date.parse(a.raised_at) - Date.parse(b.raised_at) || (a.id < b.id ? -1 : 1);
  }

  // How long it has waited for acknowledgement (still waiting: up to now), refreshed every second.
  function waitText(alarm) {
    const raised = Date.parse(alarm.raised_at);
    if (Number.isNaN(raised)) return '';
    if (alarm.state === 'new') return `waiting ${formatWait(serverNow() - raised)}`;
    const acknowledged = Date.parse(alarm.acknowledged_at);
    return Number.isNaN(acknowledged) ? '' : `acknowledged after ${formatWait(acknowledged - raised)}`;
  }

  setInterval(() => {
    for (const [id, row] of alarmRows) {
      const alarm = alarms.get(id);
      if (alarm) row.querySelector('.alarm-wait').textContent = waitText(alarm);
    }
  }, 1000);

  function renderAlarms() {
    const sorted = [...alarms.values()].sort(compareAlarms);
    // New alarms we have not seen yet: beep and announce (not for those already open at login).
    const fresh = sorted.filter((alarm) => alarm.state === 'new' && !announced.has(alarm.id));
    for (const alarm of fresh) announced.add(alarm.id);
    if (firstSyncDone && fresh.length > 0) {
      beep(fresh[0].priority);
      const label = PRIORITY_LABEL[fresh[0].priority] || fresh[0].priority;
      announce(fresh.length === 1 ? `New ${label} alarm: ${fresh[0].title}` : `${fresh.length} new alarms`);
    }
    for (const [id, row] of alarmRows) {
      if (!alarms.has(id)) { row.remove(); alarmRows.delete(id); }
    }
    // Rows are kept and moved only when their place changed, so a focused button keeps its focus.
    sorted.forEach((alarm, index) => {
      let row = alarmRows.get(alarm.id);
      if (!row) {
        row = ui.alarmTemplate.content.firstElementChild.cloneNode(true);
        row.dataset.alarmId = alarm.id;
        alarmRows.set(alarm.id, row);
      }
      fillAlarmRow(row, alarm);
      const current = ui.alarmList.children[index];
      if (current !== row) ui.alarmList.insertBefore(row, current || null);
    });
    for (const id of [...selected]) {
      const alarm = alarms.get(id);
      if (!alarm || !bulkClosable(alarm) || !supervising()) selected.delete(id);
    }
    renderGroupBar();
    const newCount = sorted.filter((alarm) => alarm.state === 'new').length;
    ui.alarmCount.textContent = sorted.length ? `(${sorted.length} open, ${newCount} new)` : '';
    ui.alarmEmpty.hidden = sorted.length > 0;
    document.title = newCount ? `(${newCount}) stam console` : 'stam console';
  }

  function fillAlarmRow(row, alarm) {
    row.dataset.priority = alarm.priority;
    row.dataset.state = alarm.state;
    row.dataset.escalated = alarm.escalated_at ? 'true' : 'false';
    row.querySelector('.priority').textContent = PRIORITY_LABEL[alarm.priority] || alarm.priority;
    row.querySelector('.alarm-escalated').hidden = !alarm.escalated_at;
    row.dataset.restored = alarm.restored_at ? 'true' : 'false';
    row.querySelector('.alarm-restored').hidden = !alarm.restored_at;
    row.querySelector('.alarm-wait').textContent = waitText(alarm);
    row.querySelector('.alarm-title').textContent = alarm.title;
    const selectable = supervising() && bulkClosable(alarm);
    const select = row.querySelector('.alarm-select');
    select.hidden = !selectable;
    select.querySelector('input').checked = selectable && selected.has(alarm.id);
    select.querySelector('input').setAttribute('aria-label', `Select for closing as a group: ${alarm.title}`);
    const site = sites.get(alarm.site_id);
    const panel = panels.get(alarm.panel_id);
    const parts = [];
    if (site) parts.push(`${site.code} ${site.name}`);
    if (panel) parts.push(panel.name);
    if (alarm.partition_number != null) parts.push(`partition ${alarm.partition_number}`);
    if (alarm.zone_number != null) parts.push(`zone ${alarm.zone_number}`);
    parts.push(alarm.kind.replace(/_/g, ' '));
    if (alarm.reports > 1) parts.push(`reported ${alarm.reports} times`);
    parts.push(formatTime(alarm.raised_at));
    row.querySelector('.alarm-meta').textContent = parts.join(' · ');
    const mine = alarm.assignee_id && session && alarm.assignee_id === session.operatorId;
    row.querySelector('.alarm-state').textContent = STATE_LABEL[alarm.state] + (alarm.state === 'in_progress' && mine ? ' (you)' : '');
    const visible = { acknowledge: alarm.state === 'new', take: alarm.state === 'acknowledged', close: alarm.state === 'in_progress', 'add-note': true, open: true };
    let lostFocus = false;
    for (const button of row.querySelectorAll('button[data-action]')) {
      const hide = !visible[button.dataset.action];
      if (hide && document.activeElement === button) lostFocus = true;
      button.hidden = hide;
      button.setAttribute('aria-label', `${button.textContent.replace('…', '')}: ${alarm.title}`);
    }
    // The next step of the workflow takes the focus of the one just done.
    if (lostFocus) row.querySelector('button[data-action]:not([hidden])').focus();
  }

  ui.alarmList.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    const id = button.closest('li').dataset.alarmId;
    const action = button.dataset.action;
    if (action === 'close' || action === 'add-note') { openNoteDialog(id, action, button); return; }
    if (action === 'open') { openAlarmView(id, button); return; }
    button.disabled = true;
    try {
      const updated = normaliseAlarm(await api('POST', `/api/alarms/${id}/${action}`));
      if (alarms.has(id)) { advance(id, updated.state, updated); renderAlarms(); }
    } catch (error) {
      alarmActionFailed(id, error);
    } finally {
      button.disabled = false;
    }
  });

  // MARK: Closing a group (supervisors): the selected alarms, one reason, one request; fire is never selectable.

  const selected = new Set();  // alarm ids ticked for closing as a group
  let groupIds = [];           // the ones the dialog lists: what is sent

  ui.alarmList.addEventListener('change', (event) => {
    const box = event.target.closest('.alarm-select-box');
    if (!box) return;
    const id = box.closest('li').dataset.alarmId;
    if (box.checked) selected.add(id); else selected.delete(id);
    renderGroupBar();
  });

  function renderGroupBar() {
    ui.groupBar.hidden = !supervising() || selected.size === 0;
    ui.groupCount.textContent = selected.size === 1 ? '1 alarm selected' : `${selected.size} alarms selected`;
  }

  ui.groupClear.addEventListener('click', () => { selected.clear(); renderAlarms(); });

  ui.groupClose.addEventListener('click', () => {
    groupIds = [...selected];
    ui.groupAlarms.replaceChildren(...groupIds.map((id) => {
      const item = document.createElement('li');
      const alarm = alarms.get(id);
      item.textContent = alarm ? `${PRIORITY_LABEL[alarm.priority] || alarm.priority} · ${alarm.title}` : id;
      return item;
    }));
    ui.groupReason.value = '';
    ui.groupError.hidden = true;
    ui.groupDialog.showModal();
    ui.groupReason.focus();
  });

  ui.groupCancel.addEventListener('click', () => ui.groupDialog.close());
  ui.groupDialog.addEventListener('close', () => { if (!ui.groupBar.hidden) ui.groupClose.focus(); else ui.alarmsHeading.focus(); });

  ui.groupForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const reason = ui.groupReason.value.trim();
    if (!reason) {
      ui.groupError.textContent = 'Say why these alarms are closed.';
      ui.groupError.hidden = false;
      ui.groupReason.focus();
      return;
    }
    ui.groupSubmit.disabled = true;
    try {
      const answer = await api('POST', '/api/alarms/close-group', { alarm_ids: groupIds, reason });
      const closed = (answer.items || []).map((alarm) => key(alarm.id));
      for (const id of groupIds) { alarms.delete(id); selected.delete(id); }
      renderAlarms();
      ui.groupDialog.close();
      showMessage(closed.length === 1 ? 'Closed 1 alarm.' : `Closed ${closed.length} alarms.`, 'info');
    } catch (error) {
      ui.groupError.textContent = error.message;
      ui.groupError.hidden = false;
      for (const id of groupIds) refreshAlarm(id);
    } finally {
      ui.groupSubmit.disabled = false;
    }
  });

  function alarmActionFailed(id, error) {
    if (!session) return;
    const alarm = alarms.get(id);
    const title = alarm ? `"${alarm.title}"` : 'the alarm';
    showMessage(error.status === 409 ? `Not done: ${error.message} (${title} was changed by someone else).` : `Not done for ${title}: ${error.message}`);
    if (error.status === 409 || error.status === 404) refreshAlarm(id);
  }

  // MARK: Notes (close needs one; a note can be added in any state)

  let noteTarget = null;  // { id, action, opener }

  function openNoteDialog(id, action, opener) {
    const alarm = alarms.get(id);
    noteTarget = { id, action, opener };
    ui.noteHeading.textContent = action === 'close' ? 'Close alarm' : 'Add a note';
    ui.noteSubmit.textContent = action === 'close' ? 'Close alarm' : 'Save note';
    ui.noteAlarm.textContent = alarm ? `${(PRIORITY_LABEL[alarm.priority] || alarm.priority).toUpperCase()} · ${alarm.title}` : '';
    ui.noteText.value = '';
    ui.noteError.hidden = true;
    ui.noteDialog.showModal();
    ui.noteText.focus();
  }

  ui.noteCancel.addEventListener('click', () => ui.noteDialog.close());
  ui.noteDialog.addEventListener('close', () => {
    const opener = noteTarget && noteTarget.opener;
    noteTarget = null;
    if (opener && opener.isConnected && !opener.hidden) opener.focus();
    else ui.alarmsHeading.focus();
  });

  ui.noteForm.addEventListener('submit', async (event) => {
    event.preventDefault();  // method=dialog would close it before the answer
    if (!noteTarget) return;
    const note = ui.noteText.value.trim();
    if (!note) {
      ui.noteError.textContent = 'Write a note first.';
      ui.noteError.hidden = false;
      ui.noteText.focus();
      return;
    }
    const { id, action } = noteTarget;
    ui.noteSubmit.disabled = true;
    try {
      const answer = await api('POST', `/api/alarms/${id}/${action}`, { note });
      if (action === 'close') { alarms.delete(id); renderAlarms(); } else showMessage('Note saved.', 'info');
      ui.noteDialog.close();
    } catch (error) {
      ui.noteError.textContent = error.message;
      ui.noteError.hidden = false;
      if (error.status === 409 || error.status === 404) refreshAlarm(id);
    } finally {
      ui.noteSubmit.disabled = false;
    }
  });

  // MARK: Alarm view: the site, its comments and call list, the action plan and its outcomes, the timeline

  const STEP_KIND_CALLS = ['call_contacts'];
  const OUTCOME_LABEL = { done: 'Done', no_answer: 'No answer', refused: 'Refused', not_needed: 'Not needed' };
  const HISTORY_LABEL = { raised: 'Raised', joined: 'Reported again', escalated: 'Escalated', acknowledged: 'Acknowledged', taken: 'Taken',
    released: 'Released', transferred: 'Transferred', taken_over: 'Taken over', priority_changed: 'Class changed', note: 'Note', step: 'Step',
    code_word_checked: 'Code word', closed: 'Closed' };
  const ROLE_LABEL = { owner: 'owner', keyholder: 'keyholder', manager: 'manager', employee: 'employee', guard_service: 'guard service',
    technician: 'technician', other: 'other' };
  let viewId = null;        // the alarm the view shows
  let view = null;          // what was read for it
  let viewOpener = null;
  let viewReload = null;
  let operatorNames = null; // id -> display name, for supervisors and admins (operators cannot list operators)
  const codeWordResults = new Map(); // contact id -> the last check's answer in this view

  const supervising = () => session && SUPERVISING_ROLES.includes(session.role);

  async function openAlarmView(id, opener) {
    viewId = id;
    viewOpener = opener;
    view = null;
    codeWordResults.clear();
    ui.avError.hidden = true;
    ui.avCloseNote.value = '';
    ui.avOverrideReason.value = '';
    ui.avOverride.hidden = true;
    ui.avNote.value = '';
    renderAlarmView();
    if (!ui.alarmDialog.open) ui.alarmDialog.showModal();
    ui.avTitle.focus();
    await loadAlarmView(id);
  }

  function scheduleViewReload() {
    clearTimeout(viewReload);
    viewReload = setTimeout(() => { if (viewId) loadAlarmView(viewId); }, 150);
  }

  async function loadAlarmView(id) {
    try {
      const alarm = normaliseAlarm(await api('GET', `/api/alarms/${id}`));
      const [site, comments, contacts, callList, plan, steps, timeline, quickNotes] = await Promise.all([
        api('GET', `/api/sites/${alarm.site_id}`),
        listAll('/api/site-comments', { site_id: alarm.site_id, sort: 'created_at' }),
        listAll('/api/contacts', { site_id: alarm.site_id, sort: 'name' }),
        listAll('/api/call-list-entries', { site_id: alarm.site_id, sort: 'position' }),
        listAll('/api/action-plan-steps', { priority: alarm.priority, sort: 'position' }),
        listAll('/api/alarm-steps', { alarm_id: id, sort: 'recorded_at' }),
        listAll('/api/alarm-history-entries', { alarm_id: id, sort: 'at' }),
        listAll('/api/quick-notes', { active: 'true', sort: 'position' }),
      ]);
      if (supervising() && !operatorNames) {
        operatorNames = new Map((await listAll('/api/operators', { active: 'true', sort: 'login' })).map((user) => [key(user.id), user.display_name]));
      }
      if (viewId !== id) return;
      view = { alarm, site, comments, contacts, callList, plan: chosenPlan(plan, alarm.site_id), steps, timeline, quickNotes };
      if (alarm.state === 'closed') alarms.delete(id); else if (alarms.has(id)) alarms.set(id, alarm);
      renderAlarmView();
      renderAlarms();
    } catch (error) {
      if (viewId === id) { ui.avError.textContent = `Loading the alarm failed: ${error.message}`; ui.avError.hidden = false; }
    }
  }

  // The site's own steps for the class replace the class's default plan (schema: ActionPlanStep).
  function chosenPlan(steps, siteId) {
    const own = steps.filter((step) => key(step.site_id) === siteId);
    return (own.length ? own : steps.filter((step) => step.site_id == null))
      .sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : 1));
  }

  // Whom to call, in order: the class's list, else the site's default list, else every contact.
  function orderedContacts() {
    const byId = new Map(view.contacts.map((contact) => [key(contact.id), contact]));
    const forClass = view.callList.filter((entry) => entry.priority === view.alarm.priority);
    const entries = forClass.length ? forClass : view.callList.filter((entry) => entry.priority == null);
    const listed = entries.sort((a, b) => a.position - b.position).map((entry) => byId.get(key(entry.contact_id))).filter(Boolean);
    return listed.length ? listed : view.contacts;
  }

  function operatorName(id) {
    if (!id) return 'station';
    if (session && key(id) === session.operatorId) return 'you';
    return (operatorNames && operatorNames.get(key(id))) || 'operator';
  }

  function renderAlarmView() {
    const alarm = view ? view.alarm : alarms.get(viewId);
    if (!alarm) return;
    ui.avPriority.textContent = PRIORITY_LABEL[alarm.priority] || alarm.priority;
    ui.alarmDialog.dataset.priority = alarm.priority;
    ui.alarmDialog.dataset.state = alarm.state;
    ui.avTitle.textContent = alarm.title;
    ui.avMeta.textContent = [alarm.kind.replace(/_/g, ' '), `raised ${formatTime(alarm.raised_at)}`, waitText(alarm)].filter(Boolean).join(' · ');
    const assignee = alarm.assignee_id ? ` by ${operatorName(alarm.assignee_id)}` : '';
    ui.avStatus.textContent = `${STATE_LABEL[alarm.state]}${alarm.state === 'in_progress' ? assignee : ''}${alarm.escalated_at ? ' · ESCALATED' : ''}`
      + (alarm.restored_at ? ` · restored ${formatTime(alarm.restored_at)}` : '') + (alarm.reports > 1 ? ` · reported ${alarm.reports} times` : '');
    const mine = session && alarm.assignee_id === session.operatorId;
    const handles = alarm.state === 'in_progress' && (mine || supervising());
    const show = {
      acknowledge: alarm.state === 'new', take: alarm.state === 'acknowledged', release: handles,
      'take-over': alarm.state === 'in_progress' && !mine && supervising(), transfer: handles && supervising(),
    };
    for (const button of ui.avActions.querySelectorAll('button[data-view-action]')) button.hidden = !show[button.dataset.viewAction];
    const others = [...(operatorNames || [])].filter(([id]) => id !== alarm.assignee_id);
    ui.avTransfer.hidden = !show.transfer || others.length === 0;
    ui.avTransferTo.replaceChildren(...others.map(([id, name]) => {
      const option = document.createElement('option');
      option.value = id;
      option.textContent = name;
      return option;
    }));
    ui.avCloseForm.hidden = alarm.state !== 'in_progress' || !handles;
    if (!view) return;
    const site = view.site;
    ui.avSite.textContent = [`${site.code} ${site.name}`, site.address, site.notes].filter(Boolean).join(' · ');
    const now = serverNow();
    ui.avComments.replaceChildren(...view.comments
      .filter((comment) => comment.expires_at == null || Date.parse(comment.expires_at) > now)
      .map((comment) => {
        const item = document.createElement('li');
        item.className = 'av-comment';
        item.dataset.temporary = comment.expires_at ? 'true' : 'false';
        item.textContent = comment.expires_at ? `${comment.body} (until ${formatTime(comment.expires_at)})` : comment.body;
        return item;
      }));
    const contacts = orderedContacts();
    ui.avContacts.replaceChildren(...contacts.map((contact) => {
      const item = ui.contactTemplate.content.firstElementChild.cloneNode(true);
      item.dataset.contactId = key(contact.id);
      item.querySelector('.av-contact-name').textContent = contact.name;
      item.querySelector('.av-contact-role').textContent = ROLE_LABEL[contact.role] || contact.role;
      item.querySelector('.av-contact-phones').textContent = [contact.phone, contact.phone_alt].filter(Boolean).join(' · ');
      item.querySelector('.av-contact-availability').textContent = contact.availability || '';
      const result = codeWordResults.get(key(contact.id));
      if (result) {
        const output = item.querySelector('.av-code-word-result');
        output.textContent = result.text;
        output.dataset.matches = result.matches ? 'true' : 'false';
      }
      return item;
    }));
    ui.avPlanEmpty.hidden = view.plan.length > 0;
    ui.avSteps.replaceChildren(...view.plan.map((step) => {
      const item = ui.stepTemplate.content.firstElementChild.cloneNode(true);
      const outcomes = view.steps.filter((recorded) => key(recorded.step_id) === key(step.id));
      item.dataset.stepId = key(step.id);
      item.dataset.required = step.required ? 'true' : 'false';
      item.dataset.recorded = outcomes.length ? 'true' : 'false';
      item.querySelector('.av-step-text').textContent = `${step.position}. ${step.instruction}`;
      item.querySelector('.av-step-badge').textContent = step.required ? 'Required' : 'Advisory';
      item.querySelector('.av-step-outcomes').replaceChildren(...outcomes.map((recorded) => {
        const line = document.createElement('li');
        const contact = view.contacts.find((candidate) => key(candidate.id) === key(recorded.contact_id));
        line.textContent = [OUTCOME_LABEL[recorded.outcome] || recorded.outcome, contact && contact.name, recorded.note,
          `${formatTime(recorded.recorded_at)} by ${operatorName(recorded.operator_id)}`].filter(Boolean).join(' · ');
        return line;
      }));
      const select = item.querySelector('.av-step-contact');
      if (STEP_KIND_CALLS.includes(step.kind) && contacts.length) {
        select.replaceChildren(...contacts.map((contact) => {
          const option = document.createElement('option');
          option.value = key(contact.id);
          option.textContent = `${contact.name} ${contact.phone}`;
          return option;
        }));
      } else {
        select.hidden = true;
      }
      item.querySelector('.av-step-record').hidden = !handles;
      for (const button of item.querySelectorAll('button[data-outcome]')) {
        button.setAttribute('aria-label', `${button.textContent}: ${step.instruction}`);
      }
      return item;
    }));
    ui.avQuickNotes.replaceChildren(...view.quickNotes.map((note) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'small secondary';
      button.dataset.quickNote = note.text;
      button.textContent = note.text;
      return button;
    }));
    ui.avTimeline.replaceChildren(...view.timeline.map((entry) => {
      const line = document.createElement('li');
      line.dataset.kind = entry.kind;
      const time = document.createElement('time');
      time.dateTime = entry.at;
      time.textContent = formatTime(entry.at);
      const text = document.createElement('span');
      text.textContent = ` ${HISTORY_LABEL[entry.kind] || entry.kind}${entry.text ? `: ${entry.text}` : ''} (${operatorName(entry.operator_id)})`;
      line.append(time, text);
      return line;
    }));
  }

  function viewFailed(error) {
    ui.avError.textContent = `Not done: ${error.message}`;
    ui.avError.hidden = false;
    if (error.code === 'required_steps_open' && supervising()) ui.avOverride.hidden = false;
    if (viewId) loadAlarmView(viewId);
  }

  async function viewPost(path, body, button) {
    ui.avError.hidden = true;
    if (button) button.disabled = true;
    try {
      return await api('POST', path, body);
    } catch (error) {
      viewFailed(error);
      return null;
    } finally {
      if (button) button.disabled = false;
    }
  }

  ui.avActions.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-view-action]');
    if (!button || !viewId) return;
    const action = button.dataset.viewAction;
    const body = action === 'transfer' ? { operator_id: ui.avTransferTo.value } : undefined;
    if (await viewPost(`/api/alarms/${viewId}/${action}`, body, button)) loadAlarmView(viewId);
  });

  ui.avSteps.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-outcome]');
    if (!button || !viewId) return;
    const item = button.closest('li');
    const select = item.querySelector('.av-step-contact');
    const note = item.querySelector('.av-step-note').value.trim();
    const body = { step_id: item.dataset.stepId, outcome: button.dataset.outcome };
    if (!select.hidden && select.value) body.contact_id = select.value;
    if (note) body.note = note;
    if (await viewPost(`/api/alarms/${viewId}/record-step`, body, button)) loadAlarmView(viewId);
  });

  ui.avContacts.addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target.closest('form.av-code-word');
    if (!form || !viewId) return;
    const input = form.querySelector('.av-code-word-input');
    const result = form.querySelector('.av-code-word-result');
    if (!input.value.trim()) { input.focus(); return; }
    const contactId = form.closest('li').dataset.contactId;
    let answer;
    try {
      await api('POST', `/api/contacts/${contactId}/verify-code-word`, { code_word: input.value, alarm_id: viewId });
      answer = { text: 'Correct', matches: true };
    } catch (error) {
      answer = { text: error.code === 'code_word_mismatch' ? 'WRONG code word' : `Not checked: ${error.message}`, matches: false };
    }
    codeWordResults.set(contactId, answer);
    result.textContent = answer.text;
    result.dataset.matches = answer.matches ? 'true' : 'false';
    input.value = '';
    loadAlarmView(viewId);
  });

  ui.avQuickNotes.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-quick-note]');
    if (!button || !viewId) return;
    if (await viewPost(`/api/alarms/${viewId}/add-note`, { note: button.dataset.quickNote }, button)) loadAlarmView(viewId);
  });

  ui.avNoteForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const note = ui.avNote.value.trim();
    if (!note || !viewId) { ui.avNote.focus(); return; }
    if (await viewPost(`/api/alarms/${viewId}/add-note`, { note })) { ui.avNote.value = ''; loadAlarmView(viewId); }
  });

  ui.avCloseForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const note = ui.avCloseNote.value.trim();
    if (!note || !viewId) { ui.avCloseNote.focus(); return; }
    const body = { note };
    const reason = ui.avOverrideReason.value.trim();
    if (!ui.avOverride.hidden && reason) body.override_reason = reason;
    const id = viewId;
    if (await viewPost(`/api/alarms/${id}/close`, body, ui.avCloseSubmit)) {
      alarms.delete(id);
      renderAlarms();
      ui.alarmDialog.close();
      showMessage('Alarm closed.', 'info');
    }
  });

  ui.avDismiss.addEventListener('click', () => ui.alarmDialog.close());
  ui.alarmDialog.addEventListener('close', () => {
    viewId = null;
    view = null;
    clearTimeout(viewReload);
    if (viewOpener && viewOpener.isConnected && !viewOpener.hidden) viewOpener.focus();
    else ui.alarmsHeading.focus();
  });

  // MARK: Handling KPIs (supervisors): /api/reports/handling as a chart, a table and CSV

  const SVG = 'http://www.w3.org/2000/svg';
  const isoDay = (date) => date.toISOString().slice(0, 10);

  function kpiQuery(format) {
    const to = new Date(`${ui.kpiTo.value}T00:00:00Z`);
    to.setUTCDate(to.getUTCDate() + 1);  // the "to" day is included
    return new URLSearchParams({ from: `${ui.kpiFrom.value}T00:00:00Z`, to: to.toISOString(), period: ui.kpiPeriod.value,
      by: ui.kpiBy.value, format });
  }

  ui.kpiOpen.addEventListener('click', () => {
    const today = new Date(serverNow());
    const weekAgo = new Date(today.getTime() - 6 * 86400000);
    if (!ui.kpiFrom.value) ui.kpiFrom.value = isoDay(weekAgo);
    if (!ui.kpiTo.value) ui.kpiTo.value = isoDay(today);
    ui.kpiDialog.showModal();
    ui.kpiTitle = ui.kpiTitle || $('kpi-title');
    ui.kpiTitle.focus();
    loadKPIs();
  });
  ui.kpiDismiss.addEventListener('click', () => ui.kpiDialog.close());
  ui.kpiDialog.addEventListener('close', () => ui.kpiOpen.focus());
  ui.kpiForm.addEventListener('submit', (event) => { event.preventDefault(); loadKPIs(); });

  async function loadKPIs() {
    ui.kpiError.hidden = true;
    try {
      const report = await api('GET', `/api/reports/handling?${kpiQuery('json')}`);
      renderKPIs(report.lines);
    } catch (error) {
      ui.kpiError.textContent = `The report failed: ${error.message}`;
      ui.kpiError.hidden = false;
    }
  }

  function seconds(value) { return value == null ? '–' : value.toFixed(1); }
  function share(value) { return `${Math.round((value || 0) * 100)} %`; }

  function renderKPIs(lines) {
    const rows = lines.map((line) => {
      const row = document.createElement('tr');
      const ack = line.seconds.store_to_acknowledge || {};
      const cells = [line.period, line.group, String(line.alarms), seconds(ack.p50), seconds(ack.p90),
        seconds((line.seconds.store_to_present || {}).p50), seconds((line.seconds.store_to_close || {}).p50),
        share(line.acknowledged_within['30s']), share(line.acknowledged_within['60s']), share(line.acknowledged_within['180s'])];
      for (const text of cells) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    });
    ui.kpiTable.tBodies[0].replaceChildren(...rows);
    // The chart: one pair of bars per line (median filled, p90 outlined), scaled to the largest p90.
    const chart = ui.kpiChart;
    const width = 900, height = 300, left = 50, bottom = 40, top = 10;
    const values = lines.map((line) => line.seconds.store_to_acknowledge || {});
    const largest = Math.max(30, ...values.map((value) => value.p90 || value.p50 || 0));
    const slot = lines.length ? (width - left - 10) / lines.length : 0;
    const scale = (value) => ((height - bottom - top) * (value || 0)) / largest;
    const shapes = [];
    const axis = document.createElementNS(SVG, 'line');
    axis.setAttribute('x1', left); axis.setAttribute('x2', width - 10);
    axis.setAttribute('y1', height - bottom); axis.setAttribute('y2', height - bottom);
    axis.setAttribute('class', 'kpi-axis');
    shapes.push(axis);
    for (const limit of [30, 60, 180].filter((limit) => limit <= largest)) {
      const y = height - bottom - scale(limit);
      const guide = document.createElementNS(SVG, 'line');
      guide.setAttribute('x1', left); guide.setAttribute('x2', width - 10); guide.setAttribute('y1', y); guide.setAttribute('y2', y);
      guide.setAttribute('class', 'kpi-guide');
      const label = document.createElementNS(SVG, 'text');
      label.setAttribute('x', 4); label.setAttribute('y', y + 4);
      label.textContent = `${limit} s`;
      shapes.push(guide, label);
    }
    lines.forEach((line, index) => {
      const value = values[index];
      const x = left + index * slot + slot * 0.15;
      const barWidth = Math.max(2, slot * 0.3);
      for (const [kind, amount, offset] of [['p90', value.p90, barWidth], ['p50', value.p50, 0]]) {
        const bar = document.createElementNS(SVG, 'rect');
        bar.setAttribute('x', x + offset); bar.setAttribute('width', barWidth);
        bar.setAttribute('y', height - bottom - scale(amount)); bar.setAttribute('height', scale(amount));
        bar.setAttribute('class', `kpi-bar kpi-${kind}`);
        bar.dataset.group = line.group;
        const title = document.createElementNS(SVG, 'title');
        title.textContent = `${line.period} ${line.group}: ${kind} ${seconds(amount)} s`;
        bar.append(title);
        shapes.push(bar);
      }
      const label = document.createElementNS(SVG, 'text');
      label.setAttribute('x', x); label.setAttribute('y', height - bottom + 14);
      label.setAttribute('class', 'kpi-label');
      label.textContent = `${line.period.slice(5)} ${line.group}`;
      shapes.push(label);
    });
    chart.replaceChildren(...shapes);
  }

  ui.kpiCsv.addEventListener('click', async () => {
    ui.kpiError.hidden = true;
    try {
      const response = await fetch(`/api/reports/handling?${kpiQuery('csv')}`, { headers: { Authorization: `Bearer ${session.token}` }, cache: 'no-store' });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = `handling-${ui.kpiPeriod.value}-${ui.kpiBy.value}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      ui.kpiError.textContent = `The download failed: ${error.message}`;
      ui.kpiError.hidden = false;
    }
  });

  // MARK: Panels: rows from the API, live state from the snapshot (Redis) and the events

  function panelModel(panel, previous) {
    return {
      id: key(panel.id), name: panel.name, siteId: key(panel.site_id), enabled: panel.enabled,
      connection: previous ? previous.connection : panel.connection_state,
      lastSeen: previous ? previous.lastSeen : panel.last_seen_at,
      partitions: new Map(), zones: previous ? previous.zones : null, troubles: previous ? previous.troubles : null,
      lastEvent: previous ? previous.lastEvent : null, command: previous ? previous.command : null,
    };
  }

  async function loadReference() {
    const [siteList, panelList, partitionList] = await Promise.all([
      listAll('/api/sites'), listAll('/api/panels', { sort: 'name' }), listAll('/api/partitions'),
    ]);
    if (!session) return;
    sites.clear();
    for (const site of siteList) sites.set(key(site.id), site);
    const previous = new Map(panels);
    panels.clear();
    for (const panel of panelList) panels.set(key(panel.id), panelModel(panel, previous.get(key(panel.id))));
    for (const partition of partitionList) {
      const panel = panels.get(key(partition.panel_id));
      if (!panel) continue;
      const live = previous.get(panel.id) && previous.get(panel.id).partitions.get(partition.number);
      panel.partitions.set(partition.number, {
        number: partition.number, name: partition.name,
        arm_mode: live ? live.arm_mode : partition.arm_mode, alarm: live ? live.alarm : partition.alarm,
        fire_alarm: live ? live.fire_alarm : partition.fire_alarm,
      });
    }
    renderPanels();
    renderAlarms();  // site and panel names in the alarm rows
  }

  function parseJSON(text, fallback) {
    try { return JSON.parse(text); } catch (error) { return fallback; }
  }

  // The worker's hash panel:<id>:state: strings, JSON for the collections (Sources/Worker/LiveStateStore.swift).
  function applySnapshot(id, state) {
    const panel = panels.get(id);
    if (!panel || Object.keys(state).length === 0) return;  // no live state (no worker yet): keep the API's
    if (state.connection) panel.connection = state.connection;
    if (state.last_seen) panel.lastSeen = state.last_seen;
    for (const partition of parseJSON(state.partitions, []) || []) {
      const known = panel.partitions.get(partition.number) || { number: partition.number, name: `Partition ${partition.number}` };
      panel.partitions.set(partition.number, { ...known, arm_mode: partition.arm_mode, alarm: partition.alarm, fire_alarm: partition.fire_alarm });
    }
    if (state.zones) {
      panel.zones = new Map((parseJSON(state.zones, []) || []).map((zone) => [zone.number, { state: zone.state, bypassed: zone.bypassed }]));
    }
    if (state.troubles) panel.troubles = parseJSON(state.troubles, null);
    renderPanel(panel);
  }

  function applyPanelEvent(message) {
    const payload = message.payload || {};
    const panel = panels.get(key(payload.panel_id));
    if (!panel) return;
    const partition = (number) => panel.partitions.get(number) || { number, name: `Partition ${number}` };
    switch (message.name) {
      case 'PanelConnected':
        panel.connection = 'connected';
        break;
      case 'PanelDisconnected':
        panel.connection = 'disconnected';
        panel.lastEvent = `Disconnected: ${payload.reason || 'no reason given'}`;
        break;
      case 'ZoneStateChanged':
        if (!panel.zones) panel.zones = new Map();
        panel.zones.set(payload.zone_number, { ...(panel.zones.get(payload.zone_number) || { bypassed: false }), state: payload.state });
        break;
      case 'PartitionArmed':
        panel.partitions.set(payload.partition_number, { ...partition(payload.partition_number), arm_mode: payload.mode });
        break;
      case 'PartitionDisarmed':
        panel.partitions.set(payload.partition_number, { ...partition(payload.partition_number), arm_mode: 'disarmed', alarm: false, fire_alarm: false });
        break;
      case 'PanelEventRecorded':
        panel.lastEvent = `${payload.description} · ${formatTime(payload.occurred_at)}`;
        panel.lastSeen = payload.occurred_at;
        break;
      case 'CommandCompleted':
        commandCompleted(panel, payload);
        break;
      default:
        return;
    }
    renderPanel(panel);
  }

  function commandCompleted(panel, payload) {
    const id = key(payload.command_id);
    const ours = commands.get(id);
    if (!ours) {
      earlyResults.set(id, payload);
      if (earlyResults.size > 200) earlyResults.delete(earlyResults.keys().next().value);
      return;
    }
    commands.delete(id);
    const detail = payload.result_text ? `: ${payload.result_text}` : '';
    panel.command = { status: payload.status, text: `${ours.label}: ${COMMAND_LABEL[payload.status] || payload.status}${detail}` };
    announce(panel.command.text);
  }

  // After a reconnect, CommandCompleted of our running commands may have been missed: ask the API.
  async function checkRunningCommands() {
    for (const [id, ours] of [...commands]) {
      try {
        const command = await api('GET', `/api/commands/${id}`);
        if (['succeeded', 'failed', 'expired'].includes(command.status) && commands.has(id)) {
          const panel = panels.get(ours.panelId);
          if (panel) {
            commandCompleted(panel, { command_id: id, status: command.status, result_text: command.result_text });
            renderPanel(panel);
          }
        }
      } catch (error) { /* the next reconnect asks again */ }
    }
  }

  function partitionStateText(partition) {
    const mode = partition.arm_mode || 'disarmed';
    const text = mode === 'disarmed' ? 'Disarmed' : mode === 'mode0' ? 'Armed' : `Armed (mode ${mode.slice(4)})`;
    if (partition.fire_alarm) return `FIRE ALARM · ${text}`;
    if (partition.alarm) return `ALARM · ${text}`;
    return text;
  }

  function zonesText(panel) {
    if (!panel.zones) return 'Zones: no live state yet';
    const unusual = [...panel.zones].filter(([, zone]) => zone.state !== 'normal').sort((a, b) => a[0] - b[0]);
    const bypassed = [...panel.zones].filter(([, zone]) => zone.bypassed).map(([number]) => number).sort((a, b) => a - b);
    const parts = unusual.map(([number, zone]) => `zone ${number} ${zone.state.replace(/_/g, ' ')}`);
    if (bypassed.length) parts.push(`bypassed: ${bypassed.join(', ')}`);
    return parts.length ? `Zones: ${parts.join(' · ')}` : 'All zones normal';
  }

  function troublesText(troubles) {
    if (!troubles) return '';
    const parts = [...(troubles.systemTroubles || []).map((name) => name.replace(/_/g, ' '))];
    if ((troubles.technicalZones || []).length) parts.push(`technical zones ${troubles.technicalZones.join(', ')}`);
    for (const [part, count] of Object.entries(troubles.otherTroubleBits || {})) parts.push(`${part}: ${count}`);
    return parts.length ? `Troubles: ${parts.join(' · ')}` : 'No troubles';
  }

  function renderPanels() {
    const sorted = [...panels.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const [id, row] of panelRows) {
      if (!panels.has(id)) { row.remove(); panelRows.delete(id); }
    }
    sorted.forEach((panel, index) => {
      renderPanel(panel);
      const row = panelRows.get(panel.id);
      const current = ui.panelList.children[index];
      if (current !== row) ui.panelList.insertBefore(row, current || null);
    });
    ui.panelCount.textContent = sorted.length ? `(${sorted.length})` : '';
    ui.panelEmpty.hidden = sorted.length > 0;
  }

  function renderPanel(panel) {
    let row = panelRows.get(panel.id);
    if (!row) {
      row = ui.panelTemplate.content.firstElementChild.cloneNode(true);
      row.dataset.panelId = panel.id;
      panelRows.set(panel.id, row);
    }
    row.querySelector('.panel-name').textContent = panel.name;
    const connection = row.querySelector('.connection');
    connection.dataset.state = panel.connection || 'unknown';
    connection.textContent = (panel.connection || 'unknown').replace(/_/g, ' ');
    const site = sites.get(panel.siteId);
    const meta = [];
    if (site) meta.push(`${site.code} ${site.name}`);
    if (!panel.enabled) meta.push('disabled');
    // A connected panel answers the worker's polls right now; the live state's time only moves when something
    // changed, so it would make a quiet panel look stale. Shown once the link is down: when it last answered.
    if (panel.lastSeen && panel.connection !== 'connected') meta.push(`last seen ${formatTime(panel.lastSeen)}`);
    row.querySelector('.panel-meta').textContent = meta.join(' · ');
    renderPartitions(row.querySelector('.partitions'), panel);
    const zones = zonesText(panel);
    row.querySelector('.zones').textContent = zones;
    row.dataset.violated = String(zones.startsWith('Zones:') && panel.zones !== null);
    const troubles = troublesText(panel.troubles);
    row.querySelector('.troubles').textContent = troubles;
    row.querySelector('.troubles').hidden = !troubles;
    row.dataset.troubles = String(troubles.startsWith('Troubles:'));
    const lastEvent = row.querySelector('.last-event');
    lastEvent.textContent = panel.lastEvent ? `Last event: ${panel.lastEvent}` : '';
    lastEvent.hidden = !panel.lastEvent;
    const result = row.querySelector('.command-result');
    result.textContent = panel.command ? panel.command.text : '';
    result.dataset.status = panel.command ? panel.command.status : '';
    result.hidden = !panel.command;
  }

  function renderPartitions(list, panel) {
    const canControl = session && CONTROL_ROLES.includes(session.role);
    const partitions = [...panel.partitions.values()].sort((a, b) => a.number - b.number);
    const rows = new Map([...list.children].map((row) => [Number(row.dataset.number), row]));
    for (const [number, row] of rows) if (!panel.partitions.has(number)) row.remove();
    partitions.forEach((partition, index) => {
      let row = rows.get(partition.number);
      if (!row) {
        row = ui.partitionTemplate.content.firstElementChild.cloneNode(true);
        row.dataset.number = String(partition.number);
      }
      row.querySelector('.partition-name').textContent = `${partition.number}. ${partition.name}`;
      row.querySelector('.partition-state').textContent = partitionStateText(partition);
      row.dataset.armed = String((partition.arm_mode || 'disarmed') !== 'disarmed');
      row.dataset.alarm = String(Boolean(partition.alarm || partition.fire_alarm));
      row.querySelector('.partition-actions').hidden = !canControl;
      for (const button of row.querySelectorAll('button[data-command]')) {
        const verb = button.dataset.command === 'arm' ? 'Arm' : 'Disarm';
        button.setAttribute('aria-label', `${verb} ${panel.name} partition ${partition.number} ${partition.name}`);
      }
      const current = list.children[index];
      if (current !== row) list.insertBefore(row, current || null);
    });
  }

  ui.panelList.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-command]');
    if (!button) return;
    const panel = panels.get(button.closest('li.panel').dataset.panelId);
    const number = Number(button.closest('li.partition').dataset.number);
    if (!panel) return;
    const verb = button.dataset.command;
    const partition = panel.partitions.get(number);
    const label = `${verb === 'arm' ? 'Arm' : 'Disarm'} partition ${number}${partition ? ` (${partition.name})` : ''}`;
    button.disabled = true;
    try {
      const answer = await api('POST', `/api/panels/${panel.id}/${verb}`, { partitions: [number] });
      const id = key(answer.id);
      commands.set(id, { panelId: panel.id, label });
      panel.command = { status: answer.status, text: `${label}: ${COMMAND_LABEL[answer.status] || answer.status}` };
      const early = earlyResults.get(id);
      if (early) { earlyResults.delete(id); commandCompleted(panel, early); }
    } catch (error) {
      panel.command = { status: 'failed', text: `${label}: not sent: ${error.message}` };
    } finally {
      button.disabled = false;
    }
    renderPanel(panel);
  });

  // MARK: Start

  renderSoundToggle();
  session = storedSession();
  if (session) {
    startConsole();
  } else {
    ui.loginView.hidden = false;
    ui.loginName.focus();
  }
})();
