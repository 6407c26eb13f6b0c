# Install the Windows installer per user, check and self-test what it installed, uninstall it,
# and check that nothing is left: what a person's first install and removal do, on a CI runner.
#
#   pwsh packaging/windows/smoke_test.ps1 -Setup dist\chatlio-segment-setup-0.2.0rc1-setup.exe `
#       -ExpectedVersion 0.2.0rc1 [-Signed] [-LogDir build\smoke]
#
# Every step checks an exit code or a file instead of waiting a fixed time. Inno Setup's
# uninstaller copies itself to a temporary folder and starts that copy, so the first process
# can exit before any file is removed: the removal is polled for, with a deadline.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Setup,
    [Parameter(Mandatory = $true)][string]$ExpectedVersion,
    [string]$LogDir = (Join-Path (Get-Location) 'build\smoke'),
    [switch]$Signed,
    [int]$TimeoutSeconds = 60
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$AppName = 'Chatlio Segment Setup'
# The .iss's AppId; Inno Setup names the uninstall entry after it.
$AppId = '{C8C23446-C622-4E01-B05F-C0B88F60B7F9}'
$AppDir = Join-Path $env:LOCALAPPDATA "Programs\$AppName"
$AppExe = Join-Path $AppDir 'chatlio-segment-setup.exe'
$CliExe = Join-Path $AppDir 'chatlio-segment-setup-cli.exe'
$MenuEntry = Join-Path ([Environment]::GetFolderPath('Programs')) "$AppName\$AppName.lnk"
$UninstallKey = "HKCU:\Software\Microsoft\Windows\CurrentVersion\Uninstall\$($AppId)_is1"

function Step([string]$Message) {
    Write-Host "==> $Message"
}

# Run an Inno Setup installer or uninstaller silently; fail, showing its log, unless it exits 0.
function Invoke-Silently([string]$Program, [string]$Log, [string]$What) {
    $arguments = @('/VERYSILENT', '/SUPPRESSMSGBOXES', '/NORESTART', "/LOG=`"$Log`"")
    $process = Start-Process -FilePath $Program -ArgumentList $arguments -Wait -PassThru
    $code = $process.ExitCode
    if ($null -eq $code -or $code -ne 0) {
        if (Test-Path -LiteralPath $Log) {
            Get-Content -LiteralPath $Log | Write-Host
        }
        throw "$What exited with code $code (its log, above: $Log)"
    }
}

function Assert-VersionInfo([string]$Path) {
    $info = (Get-Item -LiteralPath $Path).VersionInfo
    if ($info.ProductName -ne $AppName) {
        throw "$Path says it is '$($info.ProductName)', not '$AppName' (version resource)"
    }
    if ($info.ProductVersion -ne $ExpectedVersion) {
        throw "$Path says version '$($info.ProductVersion)', not '$ExpectedVersion'"
    }
    Write-Host "    $(Split-Path -Leaf $Path): $($info.ProductName) $($info.ProductVersion) (file version $($info.FileMajorPart).$($info.FileMinorPart).$($info.FileBuildPart).$($info.FilePrivatePart))"
}

function Assert-Signed([string]$Path) {
    $signature = Get-AuthenticodeSignature -LiteralPath $Path
    if ($signature.Status -ne 'Valid') {
        throw "$Path is not validly signed: $($signature.Status) $($signature.StatusMessage)"
    }
    Write-Host "    $(Split-Path -Leaf $Path): signed by $($signature.SignerCertificate.Subject)"
}

$Setup = (Resolve-Path -LiteralPath $Setup).Path
New-Item -ItemType Directory -Force -Path $LogDir | Out-Null
if (Test-Path -LiteralPath $AppDir) {
    throw "$AppDir exists already: this test needs a machine without the app installed"
}

Step "The installer: $Setup"
Assert-VersionInfo $Setup
if ($Signed) { Assert-Signed $Setup }

Step 'Installing per user, silently'
Invoke-Silently $Setup (Join-Path $LogDir 'install.log') 'The installer'
foreach ($path in @($AppExe, $CliExe)) {
    if (-not (Test-Path -LiteralPath $path)) { throw "The installer did not install $path" }
    Assert-VersionInfo $path
    if ($Signed) { Assert-Signed $path }
}
if (-not (Test-Path -LiteralPath $MenuEntry)) { throw "No Start-menu entry at $MenuEntry" }
if (-not (Test-Path -LiteralPath $UninstallKey)) { throw "No entry in Apps & features ($UninstallKey)" }
$entry = Get-ItemProperty -LiteralPath $UninstallKey
if ($entry.DisplayVersion -ne $ExpectedVersion) {
    throw "Apps & features lists version '$($entry.DisplayVersion)', not '$ExpectedVersion'"
}
$uninstaller = $entry.UninstallString.Trim('"')
if ($Signed) { Assert-Signed $uninstaller }

Step 'Self-testing the installed app'
& $CliExe --self-test
if ($LASTEXITCODE -ne 0) { throw "The installed app's --self-test failed (exit code $LASTEXITCODE)" }

Step "Uninstalling: $uninstaller"
Invoke-Silently $uninstaller (Join-Path $LogDir 'uninstall.log') 'The uninstaller'
$deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
while (Test-Path -LiteralPath $AppDir) {
    if ([DateTime]::UtcNow -gt $deadline) {
        $left = Get-ChildItem -LiteralPath $AppDir -Recurse -Force |
            ForEach-Object { $_.FullName }
        throw "$TimeoutSeconds s after the uninstaller exited, $AppDir still holds: $($left -join ', ')"
    }
    Start-Sleep -Milliseconds 250
}
if (Test-Path -LiteralPath $MenuEntry) { throw "The uninstaller left the Start-menu entry $MenuEntry" }
if (Test-Path -LiteralPath $UninstallKey) { throw "The uninstaller left its entry in Apps & features" }

Write-Host "Installed, self-tested and removed $AppName $ExpectedVersion."
