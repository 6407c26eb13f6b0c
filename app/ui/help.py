"""Help for each step, in plain words, in one non-modal window that links open in the browser."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QSize, Qt, QUrl, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.segment import links

OVERVIEW = "overview"

TOPICS: dict[str, str] = {
    "welcome": "Welcome and your workspace's region",
    "source": "Create the Chatlio source in Segment",
    "write_key": "The write key",
    "test": "Send test events",
    "chatlio": "Connect Chatlio",
    "destinations": "Destinations and warehouse",
    "finish": "Finish",
    "eu_workspace": "Chatlio needs a US workspace",
    "main": "The test screen",
    "token": "The Segment Public API token (optional)",
}

_CATALOG = links.chatlio_catalog(None)
_SOURCES = links.sources_list(None)
_DASHBOARD = links.CHATLIO_DASHBOARD
_STATUS = links.SEGMENT_STATUS
_TOKENS = links.access_tokens(None)

_API_HELP = (
    "<p><b>With a Public API token</b> (optional; Team and Business plans) the app does more "
    "of this for you: see <a href='help:token'>the Public API token</a>.</p>"
)

_NOT_PROOF = (
    "<p><b>“Accepted” is not proof that the key is right.</b> Segment accepts events sent with "
    "a write key it does not know, and drops them later without telling anyone. To be sure, "
    "open the source's <b>Debugger</b> in Segment and search for the test visitor id or the "
    "conversation id that the app shows (each has a Copy button). The Debugger shows a live "
    "sample of what arrived.</p>"
)

_SANDBOX = (
    "<p><b>Trying it without a Segment account?</b> The built-in sandbox is a stand-in for "
    "Segment that runs on this computer. Test events go there, you see them arrive, and "
    "nothing reaches Segment. No account or key is needed.</p>"
)

_BODIES: dict[str, str] = {
    OVERVIEW: (
        "<p>This app connects Chatlio, the live chat, to Segment, and shows that it works. "
        "It follows Segment's own setup for Chatlio, one step at a time:</p><ol>"
        "<li><a href='help:welcome'>Check your workspace's region</a></li>"
        "<li><a href='help:source'>Create the Chatlio source in Segment</a></li>"
        "<li><a href='help:write_key'>Keep the source's write key</a></li>"
        "<li><a href='help:test'>Send test events</a></li>"
        "<li><a href='help:chatlio'>Paste the key into Chatlio</a></li>"
        "<li><a href='help:destinations'>Connect destinations</a></li>"
        "<li><a href='help:finish'>Finish</a></li></ol>"
        "<p>After setup the app opens on <a href='help:main'>the test screen</a>.</p>"
        "<p>Optional: <a href='help:token'>a Segment Public API token</a> lets the app find "
        "your workspace, create the source, check the key and count the test events.</p>" + _SANDBOX
    ),
    "token": (
        "<p>A <b>Public API token</b> lets this app ask Segment itself, instead of leaving you "
        "to look. With one, the app:</p><ul>"
        "<li>finds your workspace and its region (the Segment address that accepts the token "
        "tells it);</li>"
        "<li>creates the Chatlio source when you press <b>Create the Chatlio source for "
        "me</b>, and keeps its write key in your keyring without ever showing it;</li>"
        "<li>tells you which source a write key belongs to, and whether it is a Chatlio "
        "source (a website's JavaScript source key is the usual mix-up);</li>"
        "<li>lists the destinations and warehouses the source sends to;</li>"
        "<li>after test events, asks Segment to count them, and says whether they "
        "arrived.</li></ul>"
        "<p><b>It never changes or deletes anything else</b> in your workspace. It reads the "
        "workspace, its sources and their write keys, and Segment's counts of delivered "
        "events; it creates a source only when you ask.</p>"
        "<p><b>Who can make one.</b> A workspace owner, in Segment: Settings → Workspace "
        "settings → Access Management → Tokens, then <b>Create Token</b> "
        f"(<a href='{_TOKENS}'>open the Tokens page</a>). Workspace Owner access lets the app "
        "do all of the above; a Workspace Member token needs the <b>Source Admin</b> role to "
        "see write keys. Segment shows the token only once: copy it straight into this "
        "app.</p>"
        "<p><b>Which plans.</b> Segment offers the Public API on its Team and Business plans. "
        "On the Free plan there is no token, and nothing is lost: you confirm the setup by "
        "eye in the source's <b>Debugger</b> in Segment, as the test step explains.</p>"
        "<p><b>Where it is kept.</b> In your keyring (Keychain, Windows Credential Manager, "
        "GNOME Keyring or KWallet), or in memory for this session only when there is no "
        "keyring; never in a settings file. Setup → <b>Public API token…</b> replaces or "
        "deletes it.</p>"
        "<p><b>Without a token</b> the app can still ask Segment's content delivery network "
        "whether it knows a write key. That check is unofficial and puts the key in a web "
        "address, so the app asks first; “could not confirm” does not mean the key is "
        "wrong.</p>"
    ),
    "welcome": (
        "<p>This assistant walks you through Segment's setup for Chatlio: create a Chatlio "
        "source in Segment, keep its write key safely on this computer, send test events, "
        "paste the key into Chatlio, and connect destinations. It opens each Segment and "
        "Chatlio page for you.</p>"
        "<p><b>You need</b> a Segment workspace where you can add sources, and access to the "
        "settings in Chatlio's dashboard.</p>"
        "<p><b>Why the region matters.</b> Segment offers the Chatlio source only in "
        "workspaces whose data is processed in the United States (US). An EU workspace cannot "
        "add it. Your workspace's settings in Segment show its region; if you are not sure, "
        "ask your Segment administrator, or use a Public API token: the app then finds the "
        "region itself.</p>" + _API_HELP + _SANDBOX
    ),
    "source": (
        "<p><b>In Segment:</b></p><ol>"
        "<li>Open the <b>Sources</b> page and choose <b>Add source</b> (the app's button opens "
        f"the <a href='{_CATALOG}'>catalog at Chatlio</a> for you).</li>"
        "<li>Pick <b>Chatlio</b> from the catalog.</li>"
        "<li>Give the source a name, such as “Chatlio”, and type the same name here.</li></ol>"
        "<p><b>The name matters</b> beyond the list of sources: it also gives the source's "
        "warehouse schema its name, in lower case (“Chatlio” becomes <code>chatlio</code>). "
        "Segment does not document exactly how spaces and punctuation are turned into the "
        "schema name; its warehouse SQL settings let you change it.</p>"
        "<p><b>Workspace (optional).</b> Paste the address of any page of your workspace (it "
        "starts with https://app.segment.com/ and your workspace's short name). The app's "
        "buttons then open pages inside that workspace. Without it they open whichever "
        "workspace you are signed in to.</p>"
        "<p><b>If a page does not open where you expect</b>, sign in to Segment in your "
        f"browser first, or go to your <a href='{_SOURCES}'>list of sources</a> and find the "
        "Chatlio source there.</p>" + _API_HELP
    ),
    "write_key": (
        "<p>The <b>write key</b> is the password Chatlio uses to send events to your source. "
        "In Segment, open the Chatlio source, then <b>Settings → API Keys</b> (older "
        "workspaces show it on the source's <b>Overview</b> page), and copy it. Write keys "
        "are usually 32 letters and digits.</p>"
        "<p><b>Where it is kept.</b></p><ul>"
        "<li><b>Save to keyring</b> keeps it in this computer's password store (Keychain, "
        "Windows Credential Manager, GNOME Keyring or KWallet). It is saved at once, and "
        "stays there even if you leave the setup.</li>"
        "<li><b>Use for this session only</b> keeps it in memory until the app closes; "
        "next time you enter it again.</li></ul>"
        "<p>The key never goes into a settings file, and the app never shows it in full.</p>"
        "<p><b>What can go wrong.</b> Your computer may ask you to unlock its password store: "
        "answer that prompt. If there is no password store at all (some minimal Linux "
        "setups), use the key for this session only. The app cannot tell whether a key is "
        "right by itself: with a <a href='help:token'>Public API token</a> it asks Segment "
        "which source the key belongs to; without one, see "
        "<a href='help:test'>Send test events</a>.</p>"
    ),
    "test": (
        "<p>Each event button sends one test event, as Chatlio would; <b>Send a whole "
        "conversation</b> (Ctrl+Return) sends a realistic chat: it starts, four messages go "
        "back and forth, and it ends. Every property can be edited first.</p>"
        "<p><b>Keep test events away from destinations</b> sends them so that Segment passes "
        "them to no destination (no analytics tool, CRM or chat notification gets them). "
        "Warehouses still load them: filter them out there by their library, "
        "<code>context_library_name</code>, which is <code>chatlio-segment-setup</code>.</p>"
        "<p><b>While it sends</b> the app says which event it is sending, which try it is on, "
        "and when it tries again. If Segment is busy or the network hiccups, the app tries "
        "again by itself, as Segment's own libraries do; Segment recognises a repeated event "
        "and keeps it once. <b>Stop sending</b> ends it at any time.</p>"
        "<p><b>Reading the result.</b> Each event shows in plain words what happened and what "
        "to do next. The other tabs show the request as sent (the key hidden), Segment's "
        "answer, and each try.</p>"
        + _NOT_PROOF
        + "<p><b>If nothing gets through</b>: check that this computer is online, and whether "
        "your company uses a proxy (set it in <b>Settings</b>). An answer that is not "
        "Segment's usually means a company proxy or a sign-in page is in the way. Segment's "
        f"<a href='{_STATUS}'>status page</a> says whether Segment itself has a problem.</p>"
        "<p><b>In the sandbox</b>, a second tab lists the events that arrived, with their "
        "properties.</p>"
    ),
    "chatlio": (
        "<p>Chatlio sends its events to Segment with the source's write key. To give it the "
        "key:</p><ol>"
        "<li>Press <b>Copy the write key</b>. The app clears it from the clipboard again "
        "after 60 seconds.</li>"
        f"<li>Open <a href='{_DASHBOARD}'>Chatlio's dashboard</a> and go to its settings.</li>"
        "<li>Near the bottom of the settings page is a setting for Segment: paste the key "
        "there, and save the settings.</li></ol>"
        "<p><b>If you cannot find the Segment setting</b>, Chatlio may have moved it: "
        "Chatlio's support can tell you where it is now (its own help pages were not "
        "available to the makers of this app).</p>"
        "<p><b>In the sandbox</b> there is no key to paste: skip this step, and come back to "
        "it once you have a Segment source.</p>"
    ),
    "destinations": (
        "<p>Back in Segment, open the Chatlio source and connect the tools and warehouses "
        "that should receive its events. Segment passes every Chatlio event on to them.</p>"
        "<p><b>Chatlio sends four events</b>: Live Chat Conversation Started, Conversation "
        "Ended, Message Sent (by the visitor) and Message Received (from the agent).</p>"
        "<p><b>In a warehouse</b> each event gets its own table, such as "
        "<code>live_chat_message_sent</code>, and all of them also land in the shared "
        "<code>tracks</code> table, inside the source's schema. Warehouses load every 24 to "
        "48 hours, depending on your Segment plan, so new events do not show up there at "
        "once: the source's Debugger shows them sooner.</p>" + _API_HELP
    ),
    "finish": (
        "<p>This page sums up what you set up: the source, its warehouse schema, and where "
        "the write key is kept. <b>Finish</b> keeps your choices; Cancel asks before "
        "throwing them away (a key already saved to the keyring stays there).</p>"
        "<p><b>Next</b>: watch the source's Debugger in Segment. Chatlio's events show up "
        "there as visitors chat. Next time, the app opens on <a href='help:main'>the test "
        "screen</a>, where you can send test events again; <b>Run setup again</b> is in its "
        "Setup menu.</p>"
    ),
    "eu_workspace": (
        "<p>Segment offers the Chatlio source only in workspaces whose data is processed in "
        "the United States. An EU workspace cannot add a Chatlio source, and events sent to "
        "Segment's EU address never reach one.</p>"
        "<p><b>What you can do</b></p><ul>"
        "<li>Use a Segment workspace in the US region: create one, or ask your Segment "
        "administrator for access to one, then run this setup again.</li>"
        "<li>Ask Chatlio's or Segment's support how to get Chatlio's events into an EU "
        "workspace.</li>"
        "<li>Chose EU by mistake? Go back and choose again.</li></ul>" + _SANDBOX
    ),
    "main": (
        "<p>This screen sends test events to your Chatlio source, the way Chatlio would, and "
        "shows what came back. The line at the top says where events go and where the write "
        "key is kept.</p>"
        "<p><b>Sending.</b> Press an event to send it alone, or <b>Send a whole "
        "conversation</b> (Ctrl+Return). <b>Stop sending</b> ends a send at any time.</p>"
        "<p><b>Results.</b> Each event gets a line; click it to see what happened and what "
        "to do next, the request as sent (the key hidden), the answer, and each try. "
        "<b>Copy as cURL</b> copies the request for a developer; it includes the key only if "
        "you ask for it.</p>"
        + _NOT_PROOF
        + "<p><b>Menus.</b> File → <b>Settings</b> sets the Tracking API address (leave it "
        "empty for Segment's usual one), a proxy, and the time limit of a send. Setup → "
        "<b>Write key…</b> enters or changes the key; Setup → <b>Public API token…</b> adds, "
        "replaces or deletes the <a href='help:token'>token</a>; Setup → <b>Run setup "
        "again…</b> starts the assistant from the beginning; Setup → <b>Warehouse SQL…</b> "
        "shows the tables the events create and starter queries, with buttons that copy "
        "them.</p>"
        "<p><b>Check a real event</b> (Send → Check a real event, Ctrl+E): paste what the "
        "source's Debugger shows in its Raw view, and the app says, event by event, what "
        "does not match the Live Chat spec, what that causes and how to fix it.</p>"
    ),
}


def topic_html(topic: str) -> str:
    """The page for `topic`; the overview for a topic this version does not know."""
    if topic not in TOPICS:
        topic = OVERVIEW
    title = TOPICS.get(topic, "Help")
    more = "" if topic == OVERVIEW else "<p><a href='help:overview'>All help topics</a></p>"
    return f"<h2>{title}</h2>{_BODIES[topic]}{more}"


class HelpWindow(QWidget):
    """A window of help text; links open in the browser, `help:` links show another topic."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("help_window")
        self.setWindowTitle("Help")
        self.setMinimumSize(360, 280)  # a paragraph at a time, never a word
        self._text = QTextBrowser()
        self._text.setObjectName("help_text")
        self._text.setAccessibleName("Help text")
        self._text.setOpenLinks(False)
        self._text.anchorClicked.connect(self.on_text_anchor_clicked)
        self._fallback_label = QLabel("Your browser did not open. Copy this address into it:")
        self._fallback_label.setWordWrap(True)
        self._fallback = QLineEdit()
        self._fallback.setReadOnly(True)
        self._fallback.setObjectName("help_address")
        self._fallback.setAccessibleName("Address to open in your browser")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self._text, 1)
        layout.addWidget(self._fallback_label)
        layout.addWidget(self._fallback)
        layout.addWidget(buttons)
        self._hide_fallback()
        self.topic = OVERVIEW

    def sizeHint(self) -> QSize:
        return QSize(540, 600)

    def minimumSizeHint(self) -> QSize:
        return QSize(300, 240)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:  # as in a dialog
            self.close()
        else:
            super().keyPressEvent(event)

    def show_topic(self, topic: str) -> None:
        self.topic = topic if topic in TOPICS else OVERVIEW
        self.setWindowTitle(f"Help: {TOPICS.get(self.topic, 'Overview')}")
        self._text.setHtml(topic_html(self.topic))
        self._hide_fallback()

    def _hide_fallback(self) -> None:
        self._fallback_label.hide()
        self._fallback.hide()

    @Slot(QUrl)
    def on_text_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == "help":
            self.show_topic(url.path())
            return
        from app.ui.browser import open_or_offer

        open_or_offer(url.toString(), self._fallback_label, self._fallback)


_window: list[HelpWindow] = []  # the one help window, while it exists


def show_help(parent: QWidget, topic: str) -> None:
    """Show help on `topic` in the one help window, opening it or raising it."""
    owner = parent.window()
    window = _window[0] if _window and shiboken6.isValid(_window[0]) else None
    if window is None:
        window = HelpWindow(owner)
        _window[:] = [window]
    elif window.parentWidget() is not owner:
        # The window it belonged to may be closing (the wizard after Finish): move it over.
        window.setParent(owner, Qt.WindowType.Window)
    window.show_topic(topic)
    if not window.isVisible():
        window.resize(window.sizeHint())
    window.show()
    window.raise_()
    window.activateWindow()
