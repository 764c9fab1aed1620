// vacStreamBridge.ctl: the zero-compile bridge from WinCC OA to `vac stream scada`.
//
// Connects (dpConnect) to every DPE of a streaming config and writes one JSON line per change
// to a TCP socket where `vac stream scada --source tcp://:7777` listens:
//   {"dpe":"VGI_1025_5L4_B.PR","value":1.2e-09,"stime":"2026-11-28T15:00:00.123","status":1}
// vac does the rest (deadband, sequence numbers, Kafka, retries), so this script stays small:
// no Kafka client, no credentials, nothing compiled into WinCC OA.
//
// Run it as a CTRL manager:  WCCOActrl vacStreamBridge.ctl
// Settings: the config file (same format as LHC_KafkaStream.config) and vac's address below.

#uses "CtrlJson"

const string CONFIG_FILE = "LHC_KafkaStream.config";  // in the project's data/ folder
const string VAC_HOST = "localhost";
const int VAC_PORT = 7777;
const int RECONNECT_S = 5;

int gSocket = -1;

main()
{
  dyn_mapping entries = json_strToVal(readConfig());
  dyn_string dpes;
  for (int i = 1; i <= dynlen(entries); i++)
    dynAppend(dpes, entries[i]["sourceDPE"]);
  DebugTN("vacStreamBridge: " + dynlen(dpes) + " DPEs from " + CONFIG_FILE);

  connectToVac();
  // One dpConnect per DPE: value, source time and the 64-bit status word arrive together.
  for (int i = 1; i <= dynlen(dpes); i++)
    dpConnect("onChange", TRUE,
              dpes[i] + ":_online.._value",
              dpes[i] + ":_online.._stime",
              dpes[i] + ":_online.._status64");
}

string readConfig()
{
  string text;
  fileToString(getPath(DATA_REL_PATH, CONFIG_FILE), text);
  return text;
}

void connectToVac()
{
  while (gSocket < 0)
  {
    gSocket = tcpOpen(VAC_HOST, VAC_PORT);
    if (gSocket < 0)
    {
      DebugTN("vacStreamBridge: vac not reachable at " + VAC_HOST + ":" + VAC_PORT + ", retrying");
      delay(RECONNECT_S);
    }
  }
}

void onChange(string dpeValue, anytype value, string dpeTime, time stime, string dpeStatus, bit64 status)
{
  mapping change = makeMapping("dpe", dpSubStr(dpeValue, DPSUB_DP_EL),
                               "value", value,
                               "stime", formatTimeUTC("%Y-%m-%dT%H:%M:%S", stime, ".%03d"),
                               "status", (long)status);
  string line = jsonEncode(change) + "\n";
  if (tcpWrite(gSocket, line) < 0)
  {
    // vac restarted or the network dropped: reconnect and send this change again.
    tcpClose(gSocket);
    gSocket = -1;
    connectToVac();
    tcpWrite(gSocket, line);
  }
}
