/* t8k tracker (README "Analytics"): no cookies, no third parties */
((d,w,n)=>{var s=d.currentScript,e=s&&s.dataset.endpoint||"/api/beacon",L=location,N=Date.now,E="addEventListener",t={},m={},u,c=0,A=0,B=0,P=w.PerformanceObserver;
if(n.doNotTrack=="1"||w.doNotTrack=="1"||n.globalPrivacyControl||/^(localhost|127\.0\.0\.1)$|\.localhost$/.test(L.hostname)&&!(s&&s.dataset.local))return;
var S=(v,x)=>{var b={event:v,url:L.href,...x};if(d.referrer)b.referrer=d.referrer;b=JSON.stringify(b);try{if(n.sendBeacon(e,b))return}catch{}fetch(e,{method:"POST",body:b,keepalive:!0}).catch(()=>0)};
S("PAGEVIEWED");
if(w.IntersectionObserver){var o=new IntersectionObserver(a=>a.forEach(x=>{var i=x.target.dataset.pane,p=t[i]=t[i]||{v:0,s:0};if(x.isIntersecting)p.s=p.s||N();else if(p.s){p.v+=N()-p.s;p.s=0}}),{threshold:.5});
d.querySelectorAll("[data-pane]").forEach(p=>o.observe(p));
setInterval(()=>{var z=N(),i,p,v;for(i in t){p=t[i];v=p.v+(p.s?z-p.s:0);if(!p.g&&v>=7e3){p.g=1;S("GLOSSED",{pane:i})}if(!p.r&&v>=42e3){p.r=1;S("READ",{pane:i})}}},1e3)}
var q=(y,f,o)=>{if(P&&P.supportedEntryTypes.includes(y)){new P(l=>l.getEntries().forEach(f)).observe({type:y,buffered:!0,...o});return 1}};
q("largest-contentful-paint",x=>{m.lcp=x.startTime});
q("layout-shift",x=>{var z=x.startTime;if(!x.hadRecentInput){if(z-B>1e3||z-A>5e3){A=z;c=0}B=z;c+=x.value;m.cls=Math.max(m.cls,c)}})&&(m.cls=0);
q("event",x=>{if(x.interactionId)m.inp=Math.max(m.inp||0,x.duration)},{durationThreshold:40});
var g=performance.getEntriesByType("navigation")[0];if(g)m.ttfb=Math.max(g.responseStart-(g.activationStart||0),0);
var z=f=>{if(!u&&(f||d.visibilityState=="hidden")){u=1;var k,v={};for(k in m)v[k]=k=="cls"?+m[k].toFixed(4):Math.round(m[k]);k&&S("VITALS",{props:v})}};
d[E]("visibilitychange",()=>z());w[E]("pagehide",()=>z(1));
d[E]("click",v=>{var a=v.target.closest("a[href],button");if(!a)return;if(a.tagName=="A"){if(a.host!=L.host)S("CLICKED",{target:a.href})}else S("CLICKED",{target:(a.textContent||"").trim().slice(0,100)})},!0)
})(document,window,navigator);
