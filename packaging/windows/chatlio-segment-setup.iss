; Inno Setup 6 script: a per-user installer over the PyInstaller one-folder build.
;
;   iscc /DAppVersion=0.2.0rc1 /DAppNumericVersion=0.2.0.0 ^
;        /DSourceDir=C:\path\to\chatlio-segment-setup /DOutputDir=C:\path\to\dist ^
;        packaging\windows\chatlio-segment-setup.iss
;
; `python packaging/build.py` runs exactly this (packaging/windows_installer.py writes the
; command line): AppVersion is app.__version__ as text, shown wherever Windows shows text;
; AppNumericVersion its four numbers (packaging/versions.py), all that VersionInfoVersion takes,
; so pre-releases build too. With a certificate set up (packaging/windows_signing.py) it adds
; /DSign=1 and /Ssigntool=..., and Inno Setup signs the installer and the uninstaller.
;
; Without administrator rights the app goes to %LOCALAPPDATA%\Programs\Chatlio Segment Setup,
; with a Start-menu entry and an uninstaller in "Apps & features". The AppId below never
; changes: installing a newer version upgrades the installed one in place (same folder, one
; entry in "Apps & features"),
; after closing the running app.

#ifndef AppVersion
  #define AppVersion "0.0.0"
  #define AppNumericVersion "0.0.0.0"
#endif
#ifndef AppNumericVersion
  #error Pass the version as four numbers too, e.g. /DAppNumericVersion=0.2.0.0 (build.py does)
#endif
#ifndef SourceDir
  #define SourceDir "..\..\build\pyinstaller-dist\chatlio-segment-setup"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#define AppName "Chatlio Segment Setup"
#define AppExe "chatlio-segment-setup.exe"
#define CliExe "chatlio-segment-setup-cli.exe"
#define AppUrl "https://github.com/chatlio-segment-setup/chatlio-segment-setup"

[Setup]
; Never change this GUID: it is how Windows knows a new version replaces this app.
AppId={{C8C23446-C622-4E01-B05F-C0B88F60B7F9}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Chatlio Segment Setup contributors
AppPublisherURL={#AppUrl}
AppSupportURL={#AppUrl}/issues
AppUpdatesURL={#AppUrl}/releases
; The installer's own version resource: four numbers, and the text (0.2.0rc1) beside them.
VersionInfoVersion={#AppNumericVersion}
VersionInfoProductVersion={#AppNumericVersion}
VersionInfoTextVersion={#AppVersion}
VersionInfoProductTextVersion={#AppVersion}
VersionInfoProductName={#AppName}
VersionInfoCompany=Chatlio Segment Setup contributors
VersionInfoDescription={#AppName} installer
VersionInfoCopyright=MIT licence, Chatlio Segment Setup contributors
; Per user, no administrator rights: {autopf} is then %LOCALAPPDATA%\Programs.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0.17763
OutputDir={#OutputDir}
OutputBaseFilename=chatlio-segment-setup-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\app.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
; Upgrading in place: close the running app (Restart Manager) before replacing its files.
CloseApplications=yes
RestartApplications=no
#ifdef Sign
; Signed by the sign tool named "signtool" on iscc's command line (/Ssigntool=...): the
; installer, and the uninstaller it writes, so neither runs unsigned.
SignTool=signtool
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; The bundle of the version being replaced: a Qt plugin or module it had and this one does not
; would otherwise stay behind and still be loaded.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Connect Chatlio live chat to Segment"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
; After an interactive install, offer to start the app; the command line is {#CliExe}.
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#StringChange(AppName, '&', '&&')}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the installer put there. Settings (HKCU\Software\chatlio-segment-setup) and the
; write key in Credential Manager belong to the user and stay, as for any uninstalled app.
Type: dirifempty; Name: "{app}"
