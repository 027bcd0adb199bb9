// An independent Matrix client for infrabot's end-to-end tests: matrix-js-sdk with its Rust
// crypto (matrix-sdk-crypto-wasm, the crypto Element uses), driven over stdin/stdout.
//
// Each stdin line is a JSON request {"id": N, "op": "...", "client": "name", ...}; each answer
// is one stdout line {"id": N, "ok": true, "result": ...} or {"id": N, "ok": false, "error":
// "..."}. Requests run concurrently. stdout carries nothing else: the SDK's own logging goes to
// stderr. One process holds any number of clients (devices), named by "client".
//
// The clients run in Element's strictest mode (OnlySignedDevicesIsolationMode, MSC4153's
// "exclude insecure devices"): room keys go only to devices their owner has cross-signed, and
// events are decrypted only when their sender's device is cross-signed.

import { createInterface } from "node:readline";

// Everything the SDK prints goes to stderr, so stdout stays the protocol's.
for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
    console[level] = (...args) => process.stderr.write(`${args.map(String).join(" ")}\n`);
}

const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
const { OnlySignedDevicesIsolationMode, decodeRecoveryKey } = await import(
    "matrix-js-sdk/lib/crypto-api/index.js"
);
logger.setLevel(process.env.MATRIX_JS_LOG_LEVEL ?? "warn");

const ENCRYPTION = {
    type: "m.room.encryption",
    state_key: "",
    content: { algorithm: "m.megolm.v1.aes-sha2" },
};

/** name -> {client, userId, password, events: Map(eventId -> record)} */
const clients = new Map();

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `condition` every 20 ms; fail after `within` seconds, naming `what`. */
async function until(condition, within, what) {
    const deadline = Date.now() + within * 1000;
    for (;;) {
        const value = await condition();
        if (value) return value;
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${within} s waiting for ${what}`);
        }
        await sleep(20);
    }
}

function named(name) {
    const entry = clients.get(name);
    if (!entry) throw new Error(`no client named ${name}`);
    return entry;
}

/** What the test sees of one timeline event, as the user's client shows it. */
async function record(entry, event) {
    const client = entry.client;
    if (event.isEncrypted()) await client.decryptEventIfNeeded(event);
    const readable = performance.now(); // when a user could read it (the shield comes after)
    let shield = null;
    if (event.isEncrypted() && !event.isDecryptionFailure()) {
        const info = await client.getCrypto().getEncryptionInfoForEvent(event);
        shield = info && { colour: info.shieldColour, reason: info.shieldReason };
    }
    entry.events.set(event.getId(), {
        event_id: event.getId(),
        room_id: event.getRoomId(),
        sender: event.getSender(),
        type: event.getType(),
        content: event.getContent(),
        encrypted: event.isEncrypted(),
        decryption_failure: event.isDecryptionFailure() ? event.decryptionFailureReason : null,
        shield,
        readable,
    });
    for (const waiter of entry.waiters) waiter();
}

/** The first recorded, readable event matching `match`, as soon as it is recorded. */
function next_event(entry, match, within) {
    const find = () =>
        [...entry.events.values()].find((e) => matches(e, match) && !e.decryption_failure);
    return new Promise((resolve, reject) => {
        const check = () => {
            const found = find();
            if (!found) return;
            entry.waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
        };
        const timer = setTimeout(() => {
            entry.waiters.delete(check);
            const like = JSON.stringify(match);
            reject(new Error(`timed out after ${within} s waiting for an event like ${like}`));
        }, within * 1000);
        entry.waiters.add(check);
        check();
    });
}

/** Wait until `room_id` is known, and known as encrypted when `encrypted`: a message sent
 * before the client knows the room's encryption state goes out in clear. */
async function ready_to_send(client, room_id, encrypted) {
    await until(
        async () =>
            client.getRoom(room_id) &&
            (!encrypted || client.getCrypto().isEncryptionEnabledInRoom(room_id)),
        20,
        `${room_id} to be known${encrypted ? " as encrypted" : ""}`,
    );
}

function authDict(entry) {
    return {
        type: "m.login.password",
        identifier: { type: "m.id.user", user: entry.userId },
        password: entry.password,
    };
}

const ops = {
    /** Log in on a new device with an in-memory crypto store, and sync until prepared.
     * With `recovery_key`, this device can open the user's secret storage. */
    async login({ client: name, homeserver, user_id, password, device_name, recovery_key }) {
        const entry = {
            userId: user_id,
            password,
            events: new Map(),
            waiters: new Set(),
            secretStorageKey: null,
        };
        if (recovery_key) entry.secretStorageKey = decodeRecoveryKey(recovery_key);
        const bare = sdk.createClient({ baseUrl: homeserver });
        const login = await bare.loginRequest({
            type: "m.login.password",
            identifier: { type: "m.id.user", user: user_id },
            password,
            initial_device_display_name: device_name ?? name,
        });
        const client = sdk.createClient({
            baseUrl: homeserver,
            userId: login.user_id,
            deviceId: login.device_id,
            accessToken: login.access_token,
            cryptoCallbacks: {
                // as Element asks its user for the recovery key when secret storage is opened
                getSecretStorageKey: async ({ keys }) => {
                    const [keyId] = Object.keys(keys);
                    return entry.secretStorageKey && keyId ? [keyId, entry.secretStorageKey] : null;
                },
            },
        });
        await client.initRustCrypto({ useIndexedDB: false });
        client.getCrypto().setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
        Object.assign(entry, { client, userId: login.user_id });
        clients.set(name, entry);
        const keep = (event) => record(entry, event).catch((e) => console.error(e));
        client.on(sdk.RoomEvent.Timeline, (event, _room, toStart) => toStart || keep(event));
        // a key that arrives late decrypts an event already seen: record it again
        client.on(sdk.MatrixEventEvent.Decrypted, (event) => event.getRoomId() && keep(event));
        const prepared = new Promise((resolve) =>
            client.on(sdk.ClientEvent.Sync, (state) => state === "PREPARED" && resolve()),
        );
        await client.startClient({ initialSyncLimit: 20 });
        await prepared;
        return { user_id: login.user_id, device_id: login.device_id };
    },

    /** Create and publish this user's cross-signing keys (or, when secret storage holds them
     * and this device has the recovery key, restore them from it); this device is signed. */
    async bootstrap_cross_signing({ client: name }) {
        const entry = named(name);
        // the keys in secret storage are imported only against the public keys, so fetch them
        await entry.client.getCrypto().userHasCrossSigningKeys(entry.userId, true);
        await entry.client.getCrypto().bootstrapCrossSigning({
            authUploadDeviceSigningKeys: async (makeRequest) => {
                try {
                    await makeRequest(null); // no interactive auth on the first upload (MSC3967)
                } catch (error) {
                    if (error?.httpStatus !== 401) throw error;
                    await makeRequest({ ...authDict(entry), session: error.data?.session });
                }
            },
        });
        return { ready: await entry.client.getCrypto().isCrossSigningReady() };
    },

    /** Put this user's cross-signing keys in secret storage under a new recovery key, as
     * Element's "set up recovery" does; returns the recovery key. */
    async bootstrap_secret_storage({ client: name }) {
        const entry = named(name);
        const crypto = entry.client.getCrypto();
        const key = await crypto.createRecoveryKeyFromPassphrase();
        entry.secretStorageKey = key.privateKey;
        await crypto.bootstrapSecretStorage({
            createSecretStorageKey: async () => key,
            setupNewSecretStorage: true,
        });
        // the SDK reads secret storage from account data, which the next sync brings back
        await until(() => crypto.isSecretStorageReady(), 20, "secret storage to be ready");
        return { recovery_key: key.encodedPrivateKey };
    },

    /** A new room (private, with an alias; or a direct chat), inviting `invite`; encrypted
     * unless `encrypted` is false. */
    async create_room({ client: name, invite = [], alias = null, direct = false, ...options }) {
        const encrypted = options.encrypted ?? true;
        const { client } = named(name);
        const { room_id } = await client.createRoom({
            preset: direct ? "trusted_private_chat" : "private_chat",
            room_alias_name: alias ?? undefined,
            invite,
            is_direct: direct,
            initial_state: encrypted ? [ENCRYPTION] : [],
        });
        await ready_to_send(client, room_id, encrypted);
        return { room_id };
    },

    /** Wait until this client sees `user_id` joined to `room_id`. */
    async wait_for_member({ client: name, room_id, user_id, within = 20 }) {
        const { client } = named(name);
        await until(
            () => client.getRoom(room_id)?.getMember(user_id)?.membership === "join",
            within,
            `${user_id} to join ${room_id}`,
        );
        return {};
    },

    /** Join the room someone (`sender`) invited this user to; returns its ID. */
    async accept_invite({ client: name, sender, within = 20 }) {
        const { client, userId } = named(name);
        const room = await until(
            () =>
                client
                    .getRooms()
                    .find(
                        (r) =>
                            r.getMyMembership() === "invite" &&
                            r.getMember(userId)?.events.member?.getSender() === sender,
                    ),
            within,
            `an invite from ${sender}`,
        );
        await client.joinRoom(room.roomId);
        await until(
            async () => client.getCrypto().isEncryptionEnabledInRoom(room.roomId),
            within,
            "the room's encryption state",
        );
        return { room_id: room.roomId, encrypted: true };
    },

    /** Send a text message (encrypted when the room is; `encrypted` says which to expect);
     * returns its event ID. */
    async send({ client: name, room_id, body, encrypted = true }) {
        const { client } = named(name);
        await ready_to_send(client, room_id, encrypted);
        const { event_id } = await client.sendMessage(room_id, { msgtype: "m.text", body });
        return { event_id };
    },

    /** Wait until an event matching `match` has been recorded (and decrypted, if it was
     * encrypted); returns it. `match`: sender, room_id, type, reply_to (an event ID),
     * starts_with (of the body). */
    async wait_for_event({ client: name, match, within = 20 }) {
        return next_event(named(name), match, within);
    },

    /** Send `body` and wait for `sender`'s reply to it; returns the milliseconds from just
     * before the send to the moment the reply was readable (decrypted). */
    async ask({ client: name, room_id, body, sender, encrypted = true, within = 20 }) {
        const entry = named(name);
        await ready_to_send(entry.client, room_id, encrypted);
        const start = performance.now();
        const { event_id } = await entry.client.sendMessage(room_id, { msgtype: "m.text", body });
        const reply = await next_event(entry, { sender, reply_to: event_id }, within);
        return { ms: reply.readable - start, event_id };
    },

    /** Every recorded event matching `match` (undecryptable ones too). */
    async events({ client: name, match = {} }) {
        return [...named(name).events.values()].filter((e) => matches(e, match));
    },

    /** How this client's crypto sees a device: signedByOwner, crossSigningVerified, ...
     * With `wait_signed` (seconds), first wait up to that long for it to be signed by its
     * owner: a signature just uploaded is seen once the homeserver says the keys changed. */
    async device_status({ client: name, user_id, device_id, wait_signed = 0 }) {
        const crypto = named(name).client.getCrypto();
        await crypto.getUserDeviceInfo([user_id], true);
        const status = async () => crypto.getDeviceVerificationStatus(user_id, device_id);
        if (wait_signed > 0) {
            const signed = async () => (await status())?.signedByOwner;
            await until(signed, wait_signed, `${device_id} signed by its owner`).catch(() => {});
        }
        const found = await status();
        if (found === null) return null;
        return {
            signed_by_owner: found.signedByOwner,
            cross_signing_verified: found.crossSigningVerified,
            locally_verified: found.localVerified,
            verified: found.isVerified(),
        };
    },

    /** Stop a client's sync loop. */
    async stop({ client: name }) {
        named(name).client.stopClient();
        clients.delete(name);
        return {};
    },
};

function matches(event, match) {
    if (match.sender && event.sender !== match.sender) return false;
    if (match.room_id && event.room_id !== match.room_id) return false;
    if (match.type && event.type !== match.type) return false;
    const replied = event.content?.["m.relates_to"]?.["m.in_reply_to"]?.event_id;
    if (match.reply_to && replied !== match.reply_to) return false;
    if (match.starts_with && !String(event.content?.body ?? "").startsWith(match.starts_with)) {
        return false;
    }
    return true;
}

function answer(message) {
    process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function handle(line) {
    let request;
    try {
        request = JSON.parse(line);
    } catch {
        answer({ id: null, ok: false, error: `not JSON: ${line}` });
        return;
    }
    const op = ops[request.op];
    try {
        if (!op) throw new Error(`unknown op ${request.op}`);
        answer({ id: request.id, ok: true, result: (await op(request)) ?? null });
    } catch (error) {
        answer({ id: request.id, ok: false, error: String(error?.stack ?? error) });
    }
}

const input = createInterface({ input: process.stdin });
input.on("line", (line) => line.trim() && handle(line));
input.on("close", () => {
    for (const { client } of clients.values()) client.stopClient();
    process.exit(0);
});
answer({ id: 0, ok: true, result: { ready: true, sdk: "matrix-js-sdk" } });
