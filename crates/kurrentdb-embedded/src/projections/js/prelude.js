// The projection API of KurrentDB's JavaScript projections, as its
// documentation ("User-defined projections") and its v1 engine define it:
// selectors, `when` handlers, transforms, `emit`/`linkTo`/`linkStreamTo`,
// `options`, and the event object. Written for this server; the Rust side
// (`js/mod.rs`) calls `__kdb.definition()`, `__kdb.run()`, `__kdb.load()`,
// `__kdb.process()`, `__kdb.partitionOf()` and `__kdb.deleted()`.
var __kdb = (function (global) {
  "use strict";

  var def = {
    all: false, streams: [], categories: [], allEvents: true, events: [],
    includeLinks: false, byStream: false, byCustomPartitions: false,
    producesResults: false, definesStateTransform: false,
    resultStreamName: null, partitionResultStreamNamePattern: null,
    biState: false, handlesDeleted: false, reorderEvents: false, processingLag: null
  };
  var handlers = Object.create(null);
  var init = null, initShared = null, any = null, deletedHandler = null;
  var partitionFn = null;
  var transforms = [];
  var emitted = [];
  var states = new Map();    // partition -> state
  var lastJson = new Map();  // partition -> the state's JSON at the last change
  var shared;                // bi-state: the shared state
  var sharedJson = null;

  function fail(message) { throw new Error(message); }

  // ---- definition -----------------------------------------------------------

  function addHandler(name, fn) {
    switch (name) {
      case "$init": init = fn; break;
      case "$initShared": def.biState = true; initShared = fn; break;
      case "$any": any = fn; def.allEvents = true; break;
      case "$created": break;
      case "$deleted":
        if (def.biState) fail("Cannot handle deletes in bi-state projections");
        def.handlesDeleted = true; deletedHandler = fn; break;
      default:
        def.allEvents = false;
        def.events.push(name);
        handlers[name] = fn;
    }
  }

  // Each step of the fluent API offers only the calls that may follow it.
  var next = {
    fromStream: ["when", "partitionBy", "outputState"],
    fromAll: ["when", "partitionBy", "outputState", "foreachStream"],
    fromStreams: ["when", "partitionBy", "outputState"],
    fromCategory: ["when", "partitionBy", "outputState", "foreachStream"],
    when: ["transformBy", "filterBy", "outputState", "outputTo", "$defines_state_transform"],
    foreachStream: ["when"],
    outputState: ["transformBy", "filterBy", "outputTo"],
    partitionBy: ["when"],
    transformBy: ["transformBy", "filterBy", "outputState", "outputTo"],
    filterBy: ["transformBy", "filterBy", "outputState", "outputTo"],
    outputTo: []
  };
  var steps = {
    when: function (h) {
      if (h !== null && typeof h === "object") {
        Object.keys(h).forEach(function (k) {
          if (typeof h[k] === "function") addHandler(k, h[k]);
        });
      }
      return chain("when");
    },
    partitionBy: function (fn) {
      if (typeof fn !== "function") fail("partitionBy");
      def.byCustomPartitions = true; partitionFn = fn;
      return chain("partitionBy");
    },
    foreachStream: function () { def.byStream = true; return chain("foreachStream"); },
    outputState: function () { def.producesResults = true; return chain("outputState"); },
    outputTo: function (resultStream, partitionPattern) {
      if (typeof resultStream !== "string") fail("expected string value: resultStream");
      if (arguments.length > 1 && typeof partitionPattern !== "string")
        fail("expected string value: partitionResultStreamPattern");
      def.resultStreamName = resultStream;
      if (arguments.length > 1) def.partitionResultStreamNamePattern = partitionPattern;
      return chain("outputTo");
    },
    transformBy: function (fn) {
      if (typeof fn !== "function") fail("expected function");
      def.definesStateTransform = true; def.producesResults = true;
      transforms.push([false, fn]);
      return chain("transformBy");
    },
    filterBy: function (fn) {
      if (typeof fn !== "function") fail("expected function");
      def.definesStateTransform = true; def.producesResults = true;
      transforms.push([true, fn]);
      return chain("filterBy");
    },
    $defines_state_transform: function () {
      def.definesStateTransform = true; def.producesResults = true;
    }
  };
  function chain(step) {
    var o = {};
    next[step].forEach(function (k) { o[k] = steps[k]; });
    return o;
  }

  var definitionFunctions = {
    options: function (opts) {
      if (opts === null || typeof opts !== "object") return;
      Object.keys(opts).forEach(function (k) {
        var v = opts[k];
        switch (k) {
          case "$includeLinks":
            if (typeof v !== "boolean") fail("Invalid value"); def.includeLinks = v; break;
          case "reorderEvents":
            if (typeof v !== "boolean") fail("Invalid value"); def.reorderEvents = v; break;
          case "processingLag":
            if (typeof v !== "number") fail("Invalid value"); def.processingLag = v | 0; break;
          case "resultStreamName":
            if (typeof v !== "string") fail("Invalid value"); def.resultStreamName = v; break;
          case "biState":
            if (typeof v !== "boolean") fail("Invalid value"); def.biState = v; break;
          default: fail("Unrecognized option: " + k);
        }
      });
    },
    fromAll: function () { def.all = true; return chain("fromAll"); },
    fromStream: function (s) {
      if (typeof s !== "string") fail("stream");
      def.streams.push(s);
      return chain("fromStream");
    },
    fromStreams: function (first) {
      var list = Array.isArray(first) ? first : Array.prototype.slice.call(arguments);
      list.forEach(function (s) { if (typeof s !== "string") fail("streams"); def.streams.push(s); });
      return chain("fromStreams");
    },
    fromCategory: function (first) {
      if (arguments.length === 0) return chain("fromCategory");
      if (arguments.length === 1 && !Array.isArray(first)) {
        if (typeof first !== "string") fail("category");
        def.categories.push(first);
      } else {
        var list = Array.isArray(first) ? first : Array.prototype.slice.call(arguments);
        list.forEach(function (c) {
          if (typeof c !== "string") fail("categories");
          def.streams.push("$ce-" + c);
        });
      }
      return chain("fromCategory");
    }
  };
  definitionFunctions.fromCategories = definitionFunctions.fromCategory;
  Object.keys(definitionFunctions).forEach(function (k) { global[k] = definitionFunctions[k]; });

  // ---- what handlers may call ----------------------------------------------

  function nonEmptyString(v, name) {
    if (typeof v === "string" && v.trim() !== "") return v;
    if (v === null || v === undefined || typeof v === "string") fail("Value cannot be null. (Parameter '" + name + "')");
    fail("string expected (Parameter '" + name + "')");
  }
  function object(v, name) {
    if (v === null || v === undefined) fail("Value cannot be null. (Parameter '" + name + "')");
    if (typeof v !== "object") fail("object expected (Parameter '" + name + "')");
    return v;
  }
  function extra(md, raw) {
    var pairs = [];
    if (md === undefined) return pairs;
    Object.keys(object(md, "metadata")).forEach(function (k) {
      var v = md[k];
      if (v === undefined) return;
      pairs.push([k, raw && v === null ? "null" : JSON.stringify(v)]);
    });
    return pairs;
  }
  global.emit = function (streamId, eventType, eventBody, metadata) {
    if (arguments.length < 3) fail("invalid number of parameters");
    var s = nonEmptyString(streamId, "streamId");
    var t = nonEmptyString(eventType, "eventName");
    var body = JSON.stringify(object(eventBody, "eventBody"));
    emitted.push([s, t, true, body, extra(metadata, false)]);
  };
  global.linkTo = function (streamId, event, metadata) {
    if (arguments.length !== 2 && arguments.length !== 3) fail("wrong number of parameters");
    var s = nonEmptyString(streamId, "streamId");
    var e = object(event, "event");
    if (typeof e.sequenceNumber !== "number" || typeof e.streamId !== "string")
      fail("Invalid link to event " + e.sequenceNumber + "@" + e.streamId);
    emitted.push([s, "$>", false, Math.floor(e.sequenceNumber) + "@" + e.streamId, extra(metadata, true)]);
  };
  global.linkStreamTo = function (streamId, linkedStreamId, metadata) {
    var s = nonEmptyString(streamId, "streamId");
    var linked = nonEmptyString(linkedStreamId, "linkedStreamId");
    emitted.push([s, "$@", false, linked, extra(metadata, true)]);
  };
  global.copyTo = function () {};
  global.log = function () {};

  // ---- the event object -------------------------------------------------------

  function Envelope(eventType, streamId, sequenceNumber, bodyRaw, isJson, metadataRaw,
                    linkMetadataRaw, eventId, created, partition, category) {
    this.isJson = isJson;
    this.eventType = eventType;
    this.streamId = streamId;
    this.sequenceNumber = sequenceNumber;
    this.bodyRaw = bodyRaw;
    this.metadataRaw = metadataRaw;
    this.linkMetadataRaw = linkMetadataRaw;
    this.partition = partition;
    this.category = category;
    this.eventId = eventId;
    this.created = created;
    if (isJson) { this.body = this.data = JSON.parse(bodyRaw); }
  }
  function parsed(raw) {
    if (typeof raw !== "string" || raw === "") return undefined;
    try { return JSON.parse(raw); } catch (e) { return undefined; }
  }
  Object.defineProperty(Envelope.prototype, "metadata", {
    get: function () { return parsed(this.metadataRaw); }, enumerable: true
  });
  Object.defineProperty(Envelope.prototype, "linkMetadata", {
    get: function () { return parsed(this.linkMetadataRaw); }, enumerable: true
  });

  // ---- running ------------------------------------------------------------------

  function json(v) {
    if (v === null || v === undefined) return null;
    var s = JSON.stringify(v);
    return s === undefined ? null : s;
  }
  function stateOf(partition) {
    if (states.has(partition)) return states.get(partition);
    var s = init ? init() : {};
    states.set(partition, s);
    return s;
  }
  function sharedState() {
    if (shared === undefined) shared = initShared ? initShared() : {};
    return shared;
  }
  function result(state) {
    if (!def.definesStateTransform) return json(state);
    for (var i = 0; i < transforms.length; i++) {
      var t = transforms[i];
      if (t[0]) {
        if (t[1](state) !== true) return null;
      } else {
        state = t[1](state);
      }
      if (state === null || state === undefined) return null;
    }
    return json(state);
  }
  // The changes since the last call: [partition, state JSON, result JSON].
  function changes(partition, state) {
    var out = [];
    var s = json(state);
    if (lastJson.get(partition) !== s || !lastJson.has(partition)) {
      lastJson.set(partition, s);
      out.push([partition, s, result(state)]);
    }
    if (def.biState) {
      var sj = json(shared);
      if (sj !== sharedJson) {
        sharedJson = sj;
        out.push(["", sj, sj]);
      }
    }
    return out;
  }
  function flush(out) {
    var e = emitted;
    emitted = [];
    return out.length === 0 && e.length === 0 ? null : [e, out];
  }

  return {
    definition: function () { return JSON.stringify(def); },
    // Leaves definition mode: the selectors are gone from the global object.
    run: function () { Object.keys(definitionFunctions).forEach(function (k) { delete global[k]; }); },
    load: function (partition, stateJson) {
      var v = stateJson === null ? null : JSON.parse(stateJson);
      if (def.biState && partition === "") { shared = v; sharedJson = stateJson; return; }
      states.set(partition, v);
      lastJson.set(partition, stateJson);
    },
    partitionOf: function (eventType, streamId, sequenceNumber, bodyRaw, isJson, metadataRaw,
                           linkMetadataRaw, eventId, created, category) {
      var e = new Envelope(eventType, streamId, sequenceNumber, bodyRaw, isJson, metadataRaw,
                           linkMetadataRaw, eventId, created, "", category);
      var p = partitionFn(e);
      if (typeof p === "number") return String(p);
      return typeof p === "string" ? p : null;
    },
    process: function (partition, eventType, streamId, sequenceNumber, bodyRaw, isJson,
                       metadataRaw, linkMetadataRaw, eventId, created, category) {
      var e = new Envelope(eventType, streamId, sequenceNumber, bodyRaw, isJson, metadataRaw,
                           linkMetadataRaw, eventId, created, partition, category);
      var state = stateOf(partition);
      var arg = def.biState ? [state, sharedState()] : state;
      var h = handlers[eventType];
      var ns;
      if (h) ns = h(arg, e);
      else if (any) ns = any(arg, e);
      else ns = isJson ? e.body : bodyRaw;
      if (ns === undefined) ns = arg;
      if (def.biState && Array.isArray(ns)) {
        states.set(partition, ns[0]);
        shared = ns[1];
        return flush(changes(partition, ns[0]));
      }
      states.set(partition, ns);
      return flush(changes(partition, ns));
    },
    deleted: function (partition) {
      var state = stateOf(partition);
      if (deletedHandler) deletedHandler(state, null, partition, false);
      return flush(changes(partition, state));
    }
  };
})(globalThis);
