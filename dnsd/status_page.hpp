// dnsd::kStatusPage — the live status page served at /status.
//
// One self-contained HTML document (no external assets, no build step): it fetches
// /status.json every two seconds and draws every pool, its members' health with since-when
// and each probe's last result, what is served now (or, before dnsd-probe decided, what dnsd
// answers by the all-down rule), pending approvals and failbacks, whether dnsd-probe is
// running, stale or never ran, the secondaries (serial, behind, last NOTIFY), and the recent
// events. With remote probe agents (vantage points) it also shows each member's view per
// vantage (the line `dnsctl status` prints, from the JSON's quorum.summary), each pool's quorum
// and QUORUM LOST, and the vantages reporting or silent; with a single prober nothing changes.
#pragma once

namespace dnsd {

inline constexpr const char* kStatusPage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dnsd status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .3em} h2{font-size:1.1em;margin:1.2em 0 .3em}
.meta{color:#666} .pool{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:.8em 0}
table{border-collapse:collapse;width:100%} td,th{text-align:left;padding:.2em .6em;border-bottom:1px solid #eee}
.up{color:#137333;font-weight:600} .down{color:#c5221f;font-weight:600} .unknown{color:#777}
.badge{display:inline-block;padding:0 .5em;border-radius:4px;font-size:.85em;margin-left:.4em}
.degraded{background:#fde293} .alldown{background:#f6aea9} .pending{background:#aecbfa} .stale{background:#f6aea9}
.served{font-family:ui-monospace,monospace} #events td{font-family:ui-monospace,monospace;font-size:.9em}
</style></head><body>
<h1>dnsd status</h1>
<div class="meta" id="meta">loading…</div>
<div id="pools"></div>
<div id="vantages"></div>
<div id="secondaries"></div>
<h2>Recent events</h2>
<table id="events"><tbody></tbody></table>
<script>
function esc(s){return String(s==null?"":s).replace(/[&<>"]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]))}
function age(ms){if(ms==null)return "";let s=ms/1000;if(s<60)return s.toFixed(1)+"s";let m=Math.floor(s/60);if(m<60)return m+"m"+Math.floor(s%60)+"s";return Math.floor(m/60)+"h"+(m%60)+"m"}
function when(t){return new Date(t).toISOString().replace("T"," ").replace("Z","")}
async function refresh(){
 try{
  const r=await fetch("/status.json",{cache:"no-store"}); const d=await r.json(); const st=d.status, now=st.now;
  const c=st.controller;
  document.getElementById("meta").innerHTML="served state "+d.served_generation+" · dnsd-probe "+
   (c.heartbeat_at==null?'<span class="badge stale">never ran</span> no decisions are made: dnsd answers every pool by its all-down rule':
    (c.stale?'<span class="badge stale">STALE</span> last heartbeat '+age(now-c.heartbeat_at)+' ago: dnsd serves the last decisions':
     'running (pid '+c.pid+', heartbeat '+age(now-c.heartbeat_at)+' ago)'))+" · updated "+when(now);
  const vs=st.vantages||[], agents=vs.some(v=>!v.local);
  let h="";
  for(const p of st.pools){
   const dec=p.decision;
   h+='<div class="pool" data-pool="'+esc(p.name)+'"><b>'+esc(p.name)+'</b> '+esc(p.owner)+' '+p.type+
      ' <span class="meta">ttl '+p.ttl+', failback '+esc(p.failback)+', approval '+esc(p.approval)+', all-down '+esc(p.all_down)+
      (agents||(p.quorum&&p.quorum!=="majority")?', quorum '+esc(p.quorum):'')+'</span>';
   if(!dec){const u=p.undecided||{served:[],ttl:""};
    h+='<div>serving: <span class="served">'+(u.served.length?u.served.map(esc).join(" "):"NODATA")+'</span> ttl '+u.ttl+
      '<span class="badge alldown">NO DECISION</span><div class="meta">why: dnsd-probe has not decided; dnsd answers by the all-down rule ('+esc(p.all_down)+')</div></div>'}
   else{
    h+='<div>serving: <span class="served">'+(dec.served.length?dec.served.map(esc).join(" "):"NODATA")+'</span> ttl '+dec.ttl+
      (dec.degraded?'<span class="badge degraded">DEGRADED</span>':'')+(dec.all_down?'<span class="badge alldown">ALL DOWN</span>':'')+
      (dec.pending?'<span class="badge pending">PENDING approval: failover to priority '+dec.pending.tier+'</span>':'')+
      (dec.failback?'<span class="badge pending">FAILBACK to priority '+dec.failback.tier+
        (dec.failback.manual?' waiting for dnsctl pool failback':' in '+age(dec.failback.at-now))+'</span>':'')+
      (p.quorum_lost?'<span class="badge alldown quorumlost">QUORUM LOST'+(p.quorum_lost_since!=null?' since '+when(p.quorum_lost_since):'')+
        ' (keeping the last decision)</span>':'')+
      '<div class="meta">why: '+esc(dec.reason)+' (decided '+age(now-dec.decided_at)+' ago)</div></div>';
   }
   h+='<table><tr><th>member</th><th>priority</th><th>health</th><th>since</th><th>admin</th><th>last check</th><th>latency</th></tr>';
   for(const m of p.members){
    h+='<tr data-member="'+esc(m.value)+'"><td class="served">'+esc(m.value)+'</td><td>'+m.priority+'</td><td class="'+esc(m.health)+'">'+esc(m.health.toUpperCase())+'</td><td>'+
       (m.health_since!=null?age(now-m.health_since)+' ago':'')+'</td><td>'+esc(m.admin)+(m.drained?' DRAINED':'')+'</td><td>'+
       (m.checks.length>1?m.checks.map(k=>'<span class="check" data-probe="'+esc(k.probe)+'">'+esc(k.probe)+': '+
         (k.last_checked_at!=null?(k.last_ok?'ok':'FAIL')+' '+esc(k.last_message):'no result yet')+'</span>').join('<br>'):
        (m.last_checked_at!=null?(m.last_ok?'ok':'FAIL')+' '+esc(m.last_message):''))+'</td><td>'+
       (m.last_latency_us!=null?(m.last_latency_us/1000).toFixed(1)+' ms':'')+'</td></tr>';
    const mv=m.views||[];
    if(m.quorum&&(mv.length>1||agents))
     h+='<tr class="views" data-views="'+esc(m.value)+'"><td></td><td colspan="6">vantages '+esc(m.quorum.summary)+
        ' <span class="meta">('+m.quorum.needed+' needed)</span></td></tr>';
   }
   h+='</table></div>';
  }
  document.getElementById("pools").innerHTML=h||"<p>no pools</p>";
  let vh="";
  if(agents)for(const v of vs){
   vh+='<tr data-vantage="'+esc(v.name)+'"><td>'+esc(v.name)+'</td><td>'+
      (v.state==="reporting"?'<span class="up">reporting</span>':v.state==="silent"?'<span class="down">SILENT</span>'+
       (v.silent_since!=null?' since '+when(v.silent_since):''):'<span class="unknown">never reported</span>')+'</td><td>'+
      (v.last_report_at!=null?age(now-v.last_report_at)+' ago':'')+'</td><td>'+(v.last_report_at!=null?v.lag_ms+' ms':'')+'</td><td>'+
      (v.last_report_at!=null?v.offset_ms+' ms':'')+'</td><td>'+v.dropped+'</td><td>'+v.refused+(v.last_refusal?' ('+esc(v.last_refusal)+')':'')+
      '</td><td>'+esc(v.last_address)+'</td></tr>';
  }
  document.getElementById("vantages").innerHTML=vh?'<h2>Vantage points</h2><table><tr><th>vantage</th><th>state</th><th>last report</th><th>lag</th><th>clock offset</th><th>dropped</th><th>refused</th><th>address</th></tr>'+vh+'</table>':"";
  let sh="";
  for(const s of (st.secondaries||[])){
   sh+='<tr data-secondary="'+esc(s.endpoint)+'"><td>'+esc(s.zone)+'</td><td class="served">'+esc(s.endpoint)+'</td><td>'+
      (s.behind_since==null?'<span class="up">at '+s.serial+'</span>':'<span class="down">BEHIND '+age(now-s.behind_since)+'</span>: serves '+
       (s.confirmed_serial==null?'?':s.confirmed_serial)+', current '+s.serial)+'</td><td>'+
      (s.last_notify_at!=null?age(now-s.last_notify_at)+' ago'+(s.acked_at!=null&&s.acked_at>=s.last_notify_at?', acknowledged':', unanswered'):'')+
      '</td><td>'+(s.last_transfer?esc(s.last_transfer.kind)+' '+s.last_transfer.bytes+' B in '+s.last_transfer.ms+' ms, '+age(now-s.last_transfer.at)+' ago':'')+
      '</td><td>'+s.retries+'</td><td>'+esc(s.last_error)+'</td></tr>';
  }
  document.getElementById("secondaries").innerHTML=sh?'<h2>Secondaries</h2><table><tr><th>zone</th><th>secondary</th><th>serial</th><th>last NOTIFY</th><th>last transfer</th><th>retries</th><th>error</th></tr>'+sh+'</table>':"";
  let e="";
  for(const ev of d.events.slice().reverse()){e+='<tr><td>'+when(ev.at)+'</td><td>'+esc(ev.kind)+'</td><td>'+esc(ev.message)+'</td></tr>'}
  document.querySelector("#events tbody").innerHTML=e;
 }catch(err){document.getElementById("meta").textContent="cannot reach dnsd: "+err}
}
refresh(); setInterval(refresh,2000);
</script></body></html>
)html";

}  // namespace dnsd
